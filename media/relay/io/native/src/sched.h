/* The relay threads' scheduling slice (sched.c): setSchedSlice/getSchedSlice on the module's exports. */
#ifndef CIPHERGATE_SCHED_H
#define CIPHERGATE_SCHED_H

#include <node_api.h>

int cg_sched_init(napi_env env, napi_value exports);

#endif
