/*
 * CRC-32C (Castagnoli) for walnut's append and read paths.
 *
 * Why native and hand-written: the WAL checksums every byte it writes and reads, and on this machine's
 * kind the best npm option (@node-rs/crc32) runs one crc32 instruction stream at ~3-6 GB/s plus ~130 ns
 * per call. The crc32 instruction has a latency of 3 cycles and a throughput of 1 per cycle, so three
 * independent streams over three adjacent blocks, joined with a GF(2) "shift by n zero bytes" table,
 * run about three times as fast (Intel's white paper "Fast CRC Computation for iSCSI Polynomial Using
 * CRC32 Instruction"; Mark Adler's crc32c.c, whose block sizes are used here). Measured in Node 20 on
 * this machine kind: 1 KiB 10 GB/s, 100 KiB 26 GB/s, 68 ns per 100-byte call (@node-rs/crc32:
 * 3.7 GB/s, 5.8 GB/s, 145 ns).
 *
 * The hardware path is x86-64 with SSE4.2, detected at load time. Elsewhere `hardware` is false and
 * walnut uses its portable implementation; the table-driven code below serves only as this file's own
 * fallback so that every exported function is correct on any CPU.
 *
 * Semantics are Go's crc32.Update(crc, castagnoliTable, p): the value passed in and the value returned
 * are "finished" CRCs (complemented in and out), so update(update(0, a), b) == update(0, a || b).
 */
#include "walnut.h"
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define WALNUT_X86_64 1
#include <nmmintrin.h>
#endif

#define POLY 0x82f63b78u /* CRC-32C, reflected */

/* Block sizes of the three-stream loops: a long one for bulk data, a short one for the tail. */
#define LONG_BLOCK 8192
#define SHORT_BLOCK 256

static uint32_t table[8][256];         /* slicing-by-8 tables for the software path */
static uint32_t long_shift[4][256];    /* multiply a CRC by x^(8*LONG_BLOCK) mod P, a byte at a time */
static uint32_t short_shift[4][256];   /* the same for SHORT_BLOCK */
static bool have_sse42;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* ---- GF(2) matrices: the operator that appends n zero bytes to a message (zlib's crc32_combine) ---- */

static uint32_t gf2_times(const uint32_t *mat, uint32_t vec) {
  uint32_t sum = 0;
  while (vec) {
    if (vec & 1) sum ^= *mat;
    vec >>= 1;
    mat++;
  }
  return sum;
}

static void gf2_square(uint32_t *square, const uint32_t *mat) {
  for (int n = 0; n < 32; n++) square[n] = gf2_times(mat, mat[n]);
}

/* even = the operator for `len` zero bytes (len > 0). */
static void zeros_operator(uint32_t *even, size_t len) {
  uint32_t odd[32];
  uint32_t row = 1;
  odd[0] = POLY; /* the operator for one zero bit */
  for (int n = 1; n < 32; n++) {
    odd[n] = row;
    row <<= 1;
  }
  gf2_square(even, odd); /* 2 bits */
  gf2_square(odd, even); /* 4 bits: odd is now one zero byte */
  do {
    gf2_square(even, odd);
    len >>= 1;
    if (len == 0) return;
    gf2_square(odd, even);
    len >>= 1;
  } while (len);
  memcpy(even, odd, sizeof odd);
}

static void shift_table(uint32_t out[4][256], size_t len) {
  uint32_t op[32];
  zeros_operator(op, len);
  for (uint32_t n = 0; n < 256; n++) {
    out[0][n] = gf2_times(op, n);
    out[1][n] = gf2_times(op, n << 8);
    out[2][n] = gf2_times(op, n << 16);
    out[3][n] = gf2_times(op, n << 24);
  }
}

static inline uint32_t shift(uint32_t t[4][256], uint32_t crc) {
  return t[0][crc & 0xff] ^ t[1][(crc >> 8) & 0xff] ^ t[2][(crc >> 16) & 0xff] ^ t[3][crc >> 24];
}

static void init_tables(void) {
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t c = n;
    for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ POLY : c >> 1;
    table[0][n] = c;
  }
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t c = table[0][n];
    for (int k = 1; k < 8; k++) {
      c = table[0][c & 0xff] ^ (c >> 8);
      table[k][n] = c;
    }
  }
  shift_table(long_shift, LONG_BLOCK);
  shift_table(short_shift, SHORT_BLOCK);
#ifdef WALNUT_X86_64
  __builtin_cpu_init();
  have_sse42 = __builtin_cpu_supports("sse4.2");
#endif
}

/* ---- software: slicing-by-8 over the raw (uncomplemented) register ---- */

static uint32_t crc_soft(uint32_t crc, const uint8_t *p, size_t n) {
  while (n && ((uintptr_t)p & 7)) {
    crc = table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    n--;
  }
  while (n >= 8) {
    uint32_t lo, hi;
    memcpy(&lo, p, 4);
    memcpy(&hi, p + 4, 4);
    lo ^= crc; /* little-endian hosts only: the x86-64 and arm64 Node targets */
    crc = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^ table[5][(lo >> 16) & 0xff] ^ table[4][lo >> 24] ^
          table[3][hi & 0xff] ^ table[2][(hi >> 8) & 0xff] ^ table[1][(hi >> 16) & 0xff] ^ table[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n--) crc = table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return crc;
}

/* ---- hardware: SSE4.2 crc32, three streams ---- */

#ifdef WALNUT_X86_64
/*
 * Three streams over adjacent blocks of `block` bytes while at least three remain; stream 0 continues the
 * running CRC, 1 and 2 start at zero and are folded in by shifting the CRC so far over the next block's
 * length of zeros (linearity). Inlined with a constant `block`, once per block size.
 */
__attribute__((target("sse4.2"), always_inline)) static inline uint64_t crc_sse42_3way(uint64_t c0, const uint8_t **pp, size_t *np,
                                                                                       size_t block, uint32_t t[4][256]) {
  const uint8_t *p = *pp;
  size_t n = *np;
  while (n >= 3 * block) {
    uint64_t c1 = 0, c2 = 0;
    const uint8_t *end = p + block;
    do {
      uint64_t a, b, d;
      memcpy(&a, p, 8);
      memcpy(&b, p + block, 8);
      memcpy(&d, p + 2 * block, 8);
      c0 = _mm_crc32_u64(c0, a);
      c1 = _mm_crc32_u64(c1, b);
      c2 = _mm_crc32_u64(c2, d);
      p += 8;
    } while (p < end);
    c0 = shift(t, (uint32_t)c0) ^ (uint32_t)c1;
    c0 = shift(t, (uint32_t)c0) ^ (uint32_t)c2;
    p += 2 * block;
    n -= 3 * block;
  }
  *pp = p;
  *np = n;
  return c0;
}

__attribute__((target("sse4.2"))) static uint32_t crc_sse42(uint32_t crc, const uint8_t *p, size_t n) {
  uint64_t c0 = crc;
  while (n && ((uintptr_t)p & 7)) {
    c0 = _mm_crc32_u8((uint32_t)c0, *p++);
    n--;
  }
  c0 = crc_sse42_3way(c0, &p, &n, LONG_BLOCK, long_shift);
  c0 = crc_sse42_3way(c0, &p, &n, SHORT_BLOCK, short_shift);
  while (n >= 8) {
    uint64_t v;
    memcpy(&v, p, 8);
    c0 = _mm_crc32_u64(c0, v);
    p += 8;
    n -= 8;
  }
  while (n--) c0 = _mm_crc32_u8((uint32_t)c0, *p++);
  return (uint32_t)c0;
}
#endif

static uint32_t crc32c_update(uint32_t crc, const uint8_t *p, size_t n, bool force_software) {
  uint32_t c = ~crc;
#ifdef WALNUT_X86_64
  if (have_sse42 && !force_software) return ~crc_sse42(c, p, n);
#endif
  (void)force_software;
  return ~crc_soft(c, p, n);
}

/* ---- Node-API glue ---- */

#define CHECK(call)                                                                                                 \
  do {                                                                                                              \
    if ((call) != napi_ok) return NULL;                                                                             \
  } while (0)

/* Reads argument `i` as a Uint8Array (Buffer included): its first byte and length. */
static bool get_bytes(napi_env env, napi_value v, const uint8_t **data, size_t *len) {
  bool is_typed;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed) return false;
  napi_typedarray_type type;
  void *p;
  if (napi_get_typedarray_info(env, v, &type, len, &p, NULL, NULL) != napi_ok) return false;
  if (type != napi_uint8_array && type != napi_uint8_clamped_array) return false;
  *data = p; /* already adjusted by the view's byteOffset */
  return true;
}

/* A JS number that is an integer in [0, 2^32): anything else is a caller bug, thrown as a TypeError. */
static bool get_u32(napi_env env, napi_value v, uint32_t *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) return false;
  if (!(d >= 0 && d <= 4294967295.0) || d != (double)(uint32_t)d) return false;
  *out = (uint32_t)d;
  return true;
}

/* crc32c(crc, data[, start, end]) and crc32cSoftware(...), the latter for tests of the fallback. */
static napi_value update_common(napi_env env, napi_callback_info info, bool force_software) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint32_t crc;
  const uint8_t *data;
  size_t len;
  if (argc < 2 || !get_u32(env, argv[0], &crc)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "crc32c: crc must be an integer in [0, 2^32)");
    return NULL;
  }
  if (!get_bytes(env, argv[1], &data, &len)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "crc32c: data must be a Uint8Array");
    return NULL;
  }
  size_t start = 0, end = len;
  if (argc >= 4) {
    uint32_t s, e;
    if (!get_u32(env, argv[2], &s) || !get_u32(env, argv[3], &e) || s > e || e > len) {
      napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "crc32c: need 0 <= start <= end <= data.length");
      return NULL;
    }
    start = s;
    end = e;
  } else if (argc == 3) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "crc32c: pass both start and end, or neither");
    return NULL;
  }
  napi_value out;
  CHECK(napi_create_uint32(env, crc32c_update(crc, data + start, end - start, force_software), &out));
  return out;
}

static napi_value js_update(napi_env env, napi_callback_info info) { return update_common(env, info, false); }
static napi_value js_update_software(napi_env env, napi_callback_info info) { return update_common(env, info, true); }

/* Adds crc32c, crc32cSoftware and hardware to `exports` (called by addon.c). */
napi_status walnut_register_crc32c(napi_env env, napi_value exports) {
  pthread_once(&init_once, init_tables);
  napi_value fn, flag;
  napi_status s;
  if ((s = napi_create_function(env, "crc32c", NAPI_AUTO_LENGTH, js_update, NULL, &fn)) != napi_ok) return s;
  if ((s = napi_set_named_property(env, exports, "crc32c", fn)) != napi_ok) return s;
  if ((s = napi_create_function(env, "crc32cSoftware", NAPI_AUTO_LENGTH, js_update_software, NULL, &fn)) != napi_ok) return s;
  if ((s = napi_set_named_property(env, exports, "crc32cSoftware", fn)) != napi_ok) return s;
  if ((s = napi_get_boolean(env, have_sse42, &flag)) != napi_ok) return s;
  return napi_set_named_property(env, exports, "hardware", flag);
}
