# The SRTP crypto addon (see index.ts). It links against nothing: the OpenSSL 3 symbols it uses
# are exported by the node executable itself, and its headers come with node's (include/node/openssl).
# Built by scripts/build-native.js with --nodedir, so node-gyp never downloads headers.
{
  "targets": [
    {
      "target_name": "ciphergate_srtp",
      "sources": ["src/addon.c", "src/init.c", "src/args.c", "src/aes_cm.c", "src/gcm.c", "src/registry.c"],
      "defines": ["NAPI_VERSION=8", "OPENSSL_SUPPRESS_DEPRECATED"],
      "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter", "-fvisibility=hidden"],
      "xcode_settings": { "OTHER_CFLAGS": ["-fvisibility=hidden"] }
    }
  ]
}
