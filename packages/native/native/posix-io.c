/*
 * pwrite(2), fdatasync(2) and fsync(2) called straight from JavaScript, for fs-node's commit path.
 *
 * Why: a WAL commit of a small record is a pwrite and an fdatasync, and between two commits the thread
 * sleeps in the disk's flush. node:fs's sync calls go through argument validation in JavaScript, a
 * context object and libuv's request machinery; measured on bench a's pattern (160-byte commits into a
 * zero-filled segment, alternating blocks in one process), calling the two syscalls here made walnut's
 * commit loop 5-8 % faster against the same loop over node:fs.
 *
 * Each function returns the syscall's result, or -errno on failure: the JavaScript side turns that into
 * an error shaped like node:fs's (code, errno, syscall). EINTR is retried. Linux only (elsewhere
 * `posixIo` is not exported and fs-node uses node:fs).
 */
#include "walnut.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

#ifdef __linux__

/* A JS number that is an integer in [0, max]: anything else is a caller bug, thrown as a TypeError. */
static bool get_index(napi_env env, napi_value v, double max, int64_t *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) return false;
  if (!(d >= 0 && d <= max) || d != (double)(int64_t)d) return false;
  *out = (int64_t)d;
  return true;
}

static bool get_fd(napi_env env, napi_value v, int *fd) {
  int64_t n;
  if (!get_index(env, v, 2147483647.0, &n)) return false;
  *fd = (int)n;
  return true;
}

static napi_value result(napi_env env, int64_t r) {
  napi_value out;
  if (napi_create_int64(env, r, &out) != napi_ok) return NULL;
  return out;
}

/* pwrite(fd, data, offset, length, position) -> bytes written, or -errno. */
static napi_value js_pwrite(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  int fd;
  int64_t offset, length, position;
  bool is_typed = false;
  napi_typedarray_type type;
  size_t size;
  void *data;
  if (argc < 5 || !get_fd(env, argv[0], &fd) || napi_is_typedarray(env, argv[1], &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, argv[1], &type, &size, &data, NULL, NULL) != napi_ok || type != napi_uint8_array) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "pwrite(fd, data: Uint8Array, offset, length, position)");
    return NULL;
  }
  /* 2^53 - 1: the largest position a JS number holds exactly. */
  if (!get_index(env, argv[2], (double)size, &offset) || !get_index(env, argv[3], (double)size, &length) ||
      offset + length > (int64_t)size || !get_index(env, argv[4], 9007199254740991.0, &position)) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "pwrite: need 0 <= offset, offset + length <= data.length, 0 <= position < 2^53");
    return NULL;
  }
  ssize_t n;
  do n = pwrite(fd, (const char *)data + offset, (size_t)length, (off_t)position);
  while (n < 0 && errno == EINTR);
  return result(env, n < 0 ? -(int64_t)errno : (int64_t)n);
}

static napi_value sync_call(napi_env env, napi_callback_info info, int (*call)(int)) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  int fd;
  if (argc < 1 || !get_fd(env, argv[0], &fd)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "fd must be an integer in [0, 2^31)");
    return NULL;
  }
  int r;
  do r = call(fd);
  while (r < 0 && errno == EINTR);
  return result(env, r < 0 ? -(int64_t)errno : 0);
}

/* fdatasync(fd) -> 0, or -errno. */
static napi_value js_fdatasync(napi_env env, napi_callback_info info) { return sync_call(env, info, fdatasync); }
/* fsync(fd) -> 0, or -errno. */
static napi_value js_fsync(napi_env env, napi_callback_info info) { return sync_call(env, info, fsync); }

napi_status walnut_register_posix_io(napi_env env, napi_value exports) {
  napi_value io, fn;
  napi_status s;
  if ((s = napi_create_object(env, &io)) != napi_ok) return s;
  if ((s = napi_create_function(env, "pwrite", NAPI_AUTO_LENGTH, js_pwrite, NULL, &fn)) != napi_ok) return s;
  if ((s = napi_set_named_property(env, io, "pwrite", fn)) != napi_ok) return s;
  if ((s = napi_create_function(env, "fdatasync", NAPI_AUTO_LENGTH, js_fdatasync, NULL, &fn)) != napi_ok) return s;
  if ((s = napi_set_named_property(env, io, "fdatasync", fn)) != napi_ok) return s;
  if ((s = napi_create_function(env, "fsync", NAPI_AUTO_LENGTH, js_fsync, NULL, &fn)) != napi_ok) return s;
  if ((s = napi_set_named_property(env, io, "fsync", fn)) != napi_ok) return s;
  return napi_set_named_property(env, exports, "posixIo", io);
}

#else

napi_status walnut_register_posix_io(napi_env env, napi_value exports) {
  (void)env;
  (void)exports;
  return napi_ok;
}

#endif
