/* walnut's addon: CRC-32C (crc32c.c) and positional I/O without node:fs's JavaScript layer (posix-io.c). */
#include "walnut.h"

NAPI_MODULE_INIT() {
  if (walnut_register_crc32c(env, exports) != napi_ok) return NULL;
  if (walnut_register_posix_io(env, exports) != napi_ok) return NULL;
  return exports;
}
