# The kernel-forwarding addon (see ../index.ts): thin wrappers of the bpf(2) system call. It links
# against nothing and needs no BPF toolchain: the program itself is assembled in TypeScript
# (../program.ts). Built by scripts/build-native.js with --nodedir, so node-gyp never downloads headers.
{
  "targets": [
    {
      "target_name": "ciphergate_kfwd",
      "sources": ["src/kfwd.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter", "-fvisibility=hidden"]
    }
  ]
}
