{
  "targets": [
    {
      "target_name": "walnut_native",
      "sources": ["native/addon.c", "native/crc32c.c", "native/posix-io.c"],
      "cflags": ["-O3", "-std=c11", "-Wall", "-Wextra", "-Werror"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"]
    }
  ]
}
