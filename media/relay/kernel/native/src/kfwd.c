/*
 * Thin N-API wrappers of bpf(2) for the in-kernel media forwarder (../index.ts, ../program.ts):
 * create the rule map, load the tc program, attach it to an interface's ingress as a TCX link
 * (Linux 6.6+; the link is detached by the kernel when its descriptor is closed, so a crashed
 * gateway leaves nothing behind), and read, write and delete map entries.
 *
 * Every function takes and returns plain numbers and Uint8Arrays, checks each argument, and throws
 * an Error naming the system call and errno on failure. Nothing here reads packet payloads.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Not in Debian 12's 6.1 uapi headers: enum bpf_attach_type values of Linux 6.6. */
#define CG_BPF_TCX_INGRESS 46

#define KEY_SIZE 12
#define VALUE_SIZE 88
#define LOG_SIZE 65536

static long sys_bpf(int cmd, union bpf_attr *attr) {
  return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static napi_value fail(napi_env env, const char *what, int err) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_throw_error(env, err == EPERM || err == EACCES ? "EPERM" : NULL, msg);
  return NULL;
}

static napi_value number(napi_env env, double v) {
  napi_value out;
  napi_create_double(env, v, &out);
  return out;
}

static napi_value boolean(napi_env env, int v) {
  napi_value out;
  napi_get_boolean(env, v != 0, &out);
  return out;
}

/* argv[i] as a non-negative int32, else a thrown TypeError. */
static int int_arg(napi_env env, napi_value v, const char *name, int32_t *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number || napi_get_value_int32(env, v, out) != napi_ok || *out < 0) {
    char msg[80];
    snprintf(msg, sizeof msg, "%s must be a non-negative integer", name);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  return 1;
}

/* argv[i] as a Uint8Array of exactly `len` octets (any length when len < 0). */
static int bytes_arg(napi_env env, napi_value v, const char *name, long len, uint8_t **data, size_t *length) {
  napi_typedarray_type type;
  size_t n;
  void *p;
  bool is;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, v, &type, &n, &p, NULL, NULL) != napi_ok || type != napi_uint8_array ||
      (len >= 0 && n != (size_t)len)) {
    char msg[80];
    if (len >= 0) snprintf(msg, sizeof msg, "%s must be a Uint8Array of %ld octets", name, len);
    else snprintf(msg, sizeof msg, "%s must be a Uint8Array", name);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  *data = p;
  if (length) *length = n;
  return 1;
}

static int args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) {
    napi_throw_type_error(env, NULL, "missing arguments");
    return 0;
  }
  return 1;
}

/* mapCreate(maxEntries) → fd: a hash map of 12-octet keys and 88-octet values, allocated as used. */
static napi_value map_create(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t max;
  if (!args(env, info, 1, argv) || !int_arg(env, argv[0], "maxEntries", &max)) return NULL;
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.map_type = BPF_MAP_TYPE_HASH;
  a.key_size = KEY_SIZE;
  a.value_size = VALUE_SIZE;
  a.max_entries = max > 0 ? (uint32_t)max : 1;
  a.map_flags = BPF_F_NO_PREALLOC;
  memcpy(a.map_name, "cg_media_fwd", 13);
  long fd = sys_bpf(BPF_MAP_CREATE, &a);
  if (fd < 0) return fail(env, "bpf(BPF_MAP_CREATE)", errno);
  return number(env, (double)fd);
}

/* progLoad(instructions) → fd of a BPF_PROG_TYPE_SCHED_CLS program; the verifier's last words on refusal. */
static napi_value prog_load(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  uint8_t *insns;
  size_t n;
  if (!args(env, info, 1, argv) || !bytes_arg(env, argv[0], "instructions", -1, &insns, &n)) return NULL;
  if (n == 0 || n % sizeof(struct bpf_insn) != 0) {
    napi_throw_range_error(env, NULL, "instructions must be a whole number of 8-octet BPF instructions");
    return NULL;
  }
  char *log = calloc(1, LOG_SIZE); /* not static: two threads may load at once */
  if (log == NULL) return fail(env, "bpf(BPF_PROG_LOAD) log", ENOMEM);
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.prog_type = BPF_PROG_TYPE_SCHED_CLS;
  a.insns = (uintptr_t)insns;
  a.insn_cnt = (uint32_t)(n / sizeof(struct bpf_insn));
  a.license = (uintptr_t) "Apache-2.0"; /* the project's; none of the helpers it calls is GPL-only */
  a.log_buf = (uintptr_t)log;
  a.log_size = LOG_SIZE;
  a.log_level = 1;
  memcpy(a.prog_name, "cg_media_fwd", 13);
  long fd = sys_bpf(BPF_PROG_LOAD, &a);
  if (fd < 0) {
    int err = errno;
    /* The verifier's verdict is the end of its log. */
    size_t len = strnlen(log, LOG_SIZE);
    const char *tail = len > 600 ? log + len - 600 : log;
    char msg[800];
    snprintf(msg, sizeof msg, "bpf(BPF_PROG_LOAD): %s%s%s", strerror(err), len ? "; verifier: " : "", tail);
    free(log);
    napi_throw_error(env, err == EPERM || err == EACCES ? "EPERM" : NULL, msg);
    return NULL;
  }
  free(log);
  return number(env, (double)fd);
}

/* tcxAttach(progFd, ifindex) → fd of the link that keeps the program on the interface's ingress. */
static napi_value tcx_attach(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t prog, ifindex;
  if (!args(env, info, 2, argv) || !int_arg(env, argv[0], "progFd", &prog) || !int_arg(env, argv[1], "ifindex", &ifindex)) return NULL;
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.link_create.prog_fd = (uint32_t)prog;
  a.link_create.target_ifindex = (uint32_t)ifindex;
  a.link_create.attach_type = CG_BPF_TCX_INGRESS;
  long fd = sys_bpf(BPF_LINK_CREATE, &a);
  if (fd < 0) return fail(env, "bpf(BPF_LINK_CREATE, tcx ingress)", errno);
  return number(env, (double)fd);
}

static napi_value map_elem(napi_env env, napi_callback_info info, int cmd) {
  napi_value argv[3];
  int32_t fd;
  uint8_t *key, *value = NULL;
  size_t want = cmd == BPF_MAP_DELETE_ELEM ? 2 : 3;
  if (!args(env, info, want, argv) || !int_arg(env, argv[0], "mapFd", &fd) || !bytes_arg(env, argv[1], "key", KEY_SIZE, &key, NULL)) return NULL;
  if (want == 3 && !bytes_arg(env, argv[2], "value", VALUE_SIZE, &value, NULL)) return NULL;
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.map_fd = (uint32_t)fd;
  a.key = (uintptr_t)key;
  a.value = (uintptr_t)value;
  a.flags = BPF_ANY;
  if (sys_bpf(cmd, &a) == 0) return boolean(env, 1);
  if (errno == ENOENT && cmd != BPF_MAP_UPDATE_ELEM) return boolean(env, 0);
  return fail(env, cmd == BPF_MAP_UPDATE_ELEM ? "bpf(BPF_MAP_UPDATE_ELEM)" : cmd == BPF_MAP_DELETE_ELEM ? "bpf(BPF_MAP_DELETE_ELEM)" : "bpf(BPF_MAP_LOOKUP_ELEM)", errno);
}

/* mapUpdate(fd, key, value) → true; mapLookup(fd, key, out) → found; mapDelete(fd, key) → found. */
static napi_value map_update(napi_env env, napi_callback_info info) { return map_elem(env, info, BPF_MAP_UPDATE_ELEM); }
static napi_value map_lookup(napi_env env, napi_callback_info info) { return map_elem(env, info, BPF_MAP_LOOKUP_ELEM); }
static napi_value map_delete(napi_env env, napi_callback_info info) { return map_elem(env, info, BPF_MAP_DELETE_ELEM); }

/* mapNextKey(fd, key | null, out) → false at the end: the key after `key`, or the first (BPF_MAP_GET_NEXT_KEY). */
static napi_value map_next_key(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t fd;
  uint8_t *key = NULL, *out;
  napi_valuetype t;
  if (!args(env, info, 3, argv) || !int_arg(env, argv[0], "mapFd", &fd)) return NULL;
  if (napi_typeof(env, argv[1], &t) != napi_ok) return NULL;
  if (t != napi_null && !bytes_arg(env, argv[1], "key", KEY_SIZE, &key, NULL)) return NULL;
  if (!bytes_arg(env, argv[2], "out", KEY_SIZE, &out, NULL)) return NULL;
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.map_fd = (uint32_t)fd;
  a.key = (uintptr_t)key;
  a.next_key = (uintptr_t)out;
  if (sys_bpf(BPF_MAP_GET_NEXT_KEY, &a) == 0) return boolean(env, 1);
  if (errno == ENOENT) return boolean(env, 0);
  return fail(env, "bpf(BPF_MAP_GET_NEXT_KEY)", errno);
}

/* ifIndex(name) → the interface's index, 0 when there is none (if_nametoindex(3)). */
static napi_value if_index(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  char name[IF_NAMESIZE + 1];
  size_t n;
  if (!args(env, info, 1, argv) || napi_get_value_string_utf8(env, argv[0], name, sizeof name, &n) != napi_ok) {
    napi_throw_type_error(env, NULL, "name must be a string");
    return NULL;
  }
  return number(env, n >= IF_NAMESIZE ? 0 : (double)if_nametoindex(name));
}

/* monotonicMs() → CLOCK_MONOTONIC in ms, the clock of bpf_ktime_get_ns(). */
static napi_value monotonic_ms(napi_env env, napi_callback_info info) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return number(env, (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6);
}

/* closeFd(fd): closing a link's descriptor detaches its program. */
static napi_value close_fd(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!args(env, info, 1, argv) || !int_arg(env, argv[0], "fd", &fd)) return NULL;
  if (close(fd) != 0) return fail(env, "close", errno);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"mapCreate", NULL, map_create, NULL, NULL, NULL, napi_enumerable, NULL},
      {"progLoad", NULL, prog_load, NULL, NULL, NULL, napi_enumerable, NULL},
      {"tcxAttach", NULL, tcx_attach, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mapUpdate", NULL, map_update, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mapLookup", NULL, map_lookup, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mapDelete", NULL, map_delete, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mapNextKey", NULL, map_next_key, NULL, NULL, NULL, napi_enumerable, NULL},
      {"ifIndex", NULL, if_index, NULL, NULL, NULL, napi_enumerable, NULL},
      {"monotonicMs", NULL, monotonic_ms, NULL, NULL, NULL, napi_enumerable, NULL},
      {"closeFd", NULL, close_fd, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }
