/* The relay thread's real-time scheduling policy (sched.c). */
#ifndef CIPHERGATE_SCHED_H
#define CIPHERGATE_SCHED_H
#include <node_api.h>
#include <stdbool.h>

/* Adds setRealtime and threadScheduling to the module's exports. */
bool cg_sched_init(napi_env env, napi_value exports);

#endif
