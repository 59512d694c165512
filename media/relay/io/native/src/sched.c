/*
 * A relay thread's real-time scheduling policy (media.scheduling, ../../../thread-priority.ts), as
 * rtpengine's --scheduling=fifo|rr --priority=N sets its poller threads'. Node has no call for
 * this: os.setPriority is setpriority(2), a nice value, which only weights the fair scheduler.
 *
 * setRealtime(policy, priority) -> 0 or an errno
 *   sched_setscheduler(2) with pid 0: on Linux that is the calling thread only (sched(7): policy
 *   and priority are per thread), so the signalling thread and libuv's pool keep theirs. The
 *   policy carries SCHED_RESET_ON_FORK, so no process started later inherits a real-time policy.
 *   policy: "fifo" (SCHED_FIFO) | "rr" (SCHED_RR) | "other" (SCHED_OTHER, priority 0: back to the
 *   fair scheduler). Needs root, CAP_SYS_NICE or an RLIMIT_RTPRIO of at least `priority` (EPERM).
 * threadScheduling() -> { policy, priority }
 *   the calling thread's, read back with sched_getscheduler(2) / sched_getparam(2).
 *
 * A real-time thread runs until it blocks or a higher priority wants its core: the relay thread
 * blocks in epoll as soon as its sockets are drained, and the kernel keeps a share of every core
 * for the fair scheduler (sched_rt_runtime_us, or the fair server's 5% on Linux 6.12+).
 */
#define _GNU_SOURCE
#include "sched.h"

#include <errno.h>
#include <sched.h>
#include <string.h>

#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif

static napi_value throw_type(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

static napi_value SetRealtime(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2) return throw_type(env, "setRealtime(policy, priority)");
  char name[8];
  size_t len = 0;
  if (napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len) != napi_ok) return throw_type(env, "policy must be a string");
  int32_t priority;
  if (napi_get_value_int32(env, argv[1], &priority) != napi_ok) return throw_type(env, "priority must be an integer");
  int policy;
  if (strcmp(name, "fifo") == 0) policy = SCHED_FIFO;
  else if (strcmp(name, "rr") == 0) policy = SCHED_RR;
  else if (strcmp(name, "other") == 0) policy = SCHED_OTHER;
  else return throw_type(env, "policy must be fifo, rr or other");
  int lo = sched_get_priority_min(policy), hi = sched_get_priority_max(policy);
  if (priority < lo || priority > hi) return throw_type(env, policy == SCHED_OTHER ? "priority must be 0 for other" : "priority must be 1..99");
  struct sched_param param;
  memset(&param, 0, sizeof param);
  param.sched_priority = priority;
  int err = sched_setscheduler(0, policy | SCHED_RESET_ON_FORK, &param) == 0 ? 0 : errno;
  napi_value result;
  napi_create_int32(env, err, &result);
  return result;
}

static napi_value ThreadScheduling(napi_env env, napi_callback_info info) {
  int policy = sched_getscheduler(0);
  struct sched_param param;
  if (policy < 0 || sched_getparam(0, &param) != 0) {
    napi_throw_error(env, NULL, strerror(errno));
    return NULL;
  }
  policy &= ~SCHED_RESET_ON_FORK;
  const char *name = policy == SCHED_FIFO ? "fifo" : policy == SCHED_RR ? "rr" : policy == SCHED_OTHER ? "other" : "unknown";
  napi_value result, v;
  napi_create_object(env, &result);
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, result, "policy", v);
  napi_create_int32(env, param.sched_priority, &v);
  napi_set_named_property(env, result, "priority", v);
  return result;
}

bool cg_sched_init(napi_env env, napi_value exports) {
  napi_property_descriptor fns[] = {
    { "setRealtime", NULL, SetRealtime, NULL, NULL, NULL, napi_default, NULL },
    { "threadScheduling", NULL, ThreadScheduling, NULL, NULL, NULL, napi_default, NULL },
  };
  return napi_define_properties(env, exports, sizeof fns / sizeof fns[0], fns) == napi_ok;
}
