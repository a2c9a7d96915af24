/*
 * fallocate(2) for the preallocation benchmark: what a native addon of our own (or etcd's
 * fileutil.Preallocate on Linux) would do, timed inside the process so that the spawn is not counted.
 *
 *   fallocate-helper <path> <size>
 *
 * Creates <path> if missing (mode 0600), calls fallocate(fd, 0, 0, size) (mode 0: allocate and extend,
 * the new range reads as zeros through unwritten extents), and prints "ok <nanoseconds>".
 * On failure prints "err <syscall> <errno>" and exits 1. Built with the machine's cc by the bench only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s <path> <size>\n", argv[0]);
    return 2;
  }
  int fd = open(argv[1], O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    printf("err open %d\n", errno);
    return 1;
  }
  long long size = atoll(argv[2]);
  long long t0 = now_ns();
  if (fallocate(fd, 0, 0, (off_t)size) != 0) {
    printf("err fallocate %d\n", errno);
    return 1;
  }
  long long t1 = now_ns();
  close(fd);
  printf("ok %lld\n", t1 - t0);
  return 0;
}
