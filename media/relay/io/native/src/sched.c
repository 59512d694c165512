/*
 * The relay threads' scheduling slice (media.sliceUs; ../../thread-priority.ts). Linux 6.12's EEVDF
 * scheduler lets a task ask for a shorter slice than the default (sched_setattr(2)'s sched_runtime
 * for SCHED_OTHER, 100 µs .. 100 ms): its virtual deadline comes sooner, so when a packet wakes a
 * relay thread it runs at once instead of after the running task's slice. Its share of the CPU
 * (the nice weight) is unchanged. Older kernels take the call and ignore the value: getSchedSlice
 * then reads 0, and the caller says so.
 *
 *   setSchedSlice(tid, us): 0, or the errno; tid 0 = the calling thread; us 0 = the kernel's default.
 *   getSchedSlice(tid): the slice in µs the kernel reports (0 where it has none), or -errno.
 * Policy and nice are read first and written back unchanged; a real-time thread is left alone (EPERM).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <node_api.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sched.h"

/* include/uapi/linux/sched/types.h (glibc 2.36 has no wrapper) */
struct cg_sched_attr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime, sched_deadline, sched_period;
  uint32_t sched_util_min, sched_util_max;
};

#define MAX_SLICE_US 100000u

static int get_attr(pid_t tid, struct cg_sched_attr *a) {
  memset(a, 0, sizeof *a);
  return syscall(SYS_sched_getattr, tid, a, sizeof *a, 0) == 0 ? 0 : errno;
}

static int set_slice(pid_t tid, uint32_t us) {
  struct cg_sched_attr a;
  int err = get_attr(tid, &a);
  if (err != 0) return err;
  if (a.sched_policy != SCHED_OTHER && a.sched_policy != SCHED_BATCH) return EPERM;
  a.size = sizeof a;
  a.sched_flags = 0;
  a.sched_runtime = (uint64_t)us * 1000;
  return syscall(SYS_sched_setattr, tid, &a, 0) == 0 ? 0 : errno;
}

static int args(napi_env env, napi_callback_info info, size_t want, uint32_t *out) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) return 0;
  for (size_t i = 0; i < want; i++) {
    double d;
    napi_valuetype t;
    if (napi_typeof(env, argv[i], &t) != napi_ok || t != napi_number || napi_get_value_double(env, argv[i], &d) != napi_ok) return 0;
    if (!(d >= 0 && d <= (i == 0 ? 4194304 : MAX_SLICE_US)) || d != (double)(uint32_t)d) return 0; /* PID_MAX_LIMIT */
    out[i] = (uint32_t)d;
  }
  return 1;
}

static napi_value number(napi_env env, double v) {
  napi_value out;
  return napi_create_double(env, v, &out) == napi_ok ? out : NULL;
}

static napi_value SetSchedSlice(napi_env env, napi_callback_info info) {
  uint32_t a[2];
  if (!args(env, info, 2, a)) {
    napi_throw_type_error(env, NULL, "setSchedSlice(tid, us): a thread id and 0..100000 µs");
    return NULL;
  }
  return number(env, set_slice((pid_t)a[0], a[1]));
}

static napi_value GetSchedSlice(napi_env env, napi_callback_info info) {
  uint32_t a[1];
  if (!args(env, info, 1, a)) {
    napi_throw_type_error(env, NULL, "getSchedSlice(tid): a thread id");
    return NULL;
  }
  struct cg_sched_attr attr;
  int err = get_attr((pid_t)a[0], &attr);
  return number(env, err != 0 ? -err : (double)(attr.sched_runtime / 1000));
}

int cg_sched_init(napi_env env, napi_value exports) {
  napi_value set, get;
  return napi_create_function(env, "setSchedSlice", NAPI_AUTO_LENGTH, SetSchedSlice, NULL, &set) == napi_ok &&
         napi_create_function(env, "getSchedSlice", NAPI_AUTO_LENGTH, GetSchedSlice, NULL, &get) == napi_ok &&
         napi_set_named_property(env, exports, "setSchedSlice", set) == napi_ok && napi_set_named_property(env, exports, "getSchedSlice", get) == napi_ok;
}
