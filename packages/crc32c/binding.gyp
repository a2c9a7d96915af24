{
  "targets": [
    {
      "target_name": "walnut_crc32c",
      "sources": ["native/crc32c.c"],
      "cflags": ["-O3", "-std=c11", "-Wall", "-Wextra", "-Werror"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"]
    }
  ]
}
