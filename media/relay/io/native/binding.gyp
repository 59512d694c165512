# The relay threads' UDP I/O addon (../index.ts): media sockets read in batches with recvmmsg(2)
# from one epoll set per thread, written with sendto(2), no per-packet callback or allocation; and
# the fast path (src/fastpath.c) that relays a latched stream's packets without JavaScript, on the
# SRTP session classes compiled in from media/srtp/native (one module, one session registry); and
# the relay thread's real-time scheduling policy (src/sched.c, media.scheduling).
# Links against nothing but libuv and OpenSSL, which node exports. Built by
# scripts/build-native.js with --nodedir, so node-gyp never downloads headers.
{
  "targets": [
    {
      "target_name": "ciphergate_udpio",
      "sources": [
        "src/udpio.c",
        "src/fastpath.c",
        "src/sched.c",
        "../../../srtp/native/src/init.c",
        "../../../srtp/native/src/args.c",
        "../../../srtp/native/src/aes_cm.c",
        "../../../srtp/native/src/gcm.c",
        "../../../srtp/native/src/registry.c"
      ],
      "defines": ["NAPI_VERSION=8", "OPENSSL_SUPPRESS_DEPRECATED"],
      "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter", "-fvisibility=hidden", "-O2"]
    }
  ]
}
