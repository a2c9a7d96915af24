/* The parts of the walnut addon, each registering its functions on the module's exports. */
#ifndef WALNUT_H
#define WALNUT_H
#include <node_api.h>

napi_status walnut_register_crc32c(napi_env env, napi_value exports);
napi_status walnut_register_posix_io(napi_env env, napi_value exports);

#endif
