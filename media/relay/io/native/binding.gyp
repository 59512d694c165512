# The relay threads' UDP I/O addon (../index.ts): media sockets read in batches with recvmmsg(2)
# from one epoll set per thread, written with sendto(2), no per-packet callback or allocation.
# Links against nothing but libuv, which node exports. Built by scripts/build-native.js with
# --nodedir, so node-gyp never downloads headers.
{
  "targets": [
    {
      "target_name": "ciphergate_udpio",
      "sources": ["src/udpio.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter", "-fvisibility=hidden", "-O2"]
    }
  ]
}
