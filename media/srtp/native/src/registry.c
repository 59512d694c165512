/*
 * The sessions alive in one JS environment (main thread or worker): a method looks `this`'s
 * wrapped pointer up here before it reads a byte of it, so a method applied to an object of
 * another addon, or of the other session type, throws instead of reading foreign memory. An
 * open-addressing pointer set costs a few ns per call, against ~70 ns for napi_check_object_type_tag.
 *
 * Lifetime: the environment's instance data holds the registry; each session holds a pointer to it
 * too. Whichever of the instance-data finalizer and the last session finalizer runs last frees it,
 * so the order in which node tears an environment down does not matter.
 */
#include "common.h"

#include <openssl/crypto.h>
#include <stdlib.h>

struct cg_registry {
  uintptr_t* slots; /* 0 = empty */
  size_t capacity;  /* a power of two */
  size_t count;
  bool env_alive;
};

static size_t home(uintptr_t p, size_t capacity) {
  return (size_t)(((uint64_t)p >> 4) * 0x9e3779b97f4a7c15ULL >> 20) & (capacity - 1);
}

static void insert(uintptr_t* slots, size_t capacity, uintptr_t p) {
  size_t i = home(p, capacity);
  while (slots[i] != 0) i = (i + 1) & (capacity - 1);
  slots[i] = p;
}

static void maybe_free(cg_registry* r) {
  if (r->env_alive || r->count > 0) return;
  free(r->slots);
  free(r);
}

static void registry_finalize(napi_env env, void* data, void* hint) {
  cg_registry* r = data;
  r->env_alive = false;
  maybe_free(r);
}

bool cg_registry_init(napi_env env) {
  cg_registry* r = calloc(1, sizeof *r);
  if (r == NULL) return cg_throw_error(env, "out of memory");
  r->capacity = 64;
  r->slots = calloc(r->capacity, sizeof *r->slots);
  r->env_alive = true;
  if (r->slots == NULL || napi_set_instance_data(env, r, registry_finalize, NULL) != napi_ok) {
    free(r->slots);
    free(r);
    return cg_throw_error(env, "cannot set up the session registry");
  }
  return true;
}

/* Keeps the load factor at or below 1/2, so a probe sequence always ends on an empty slot. */
static bool grow(cg_registry* r) {
  if (2 * (r->count + 1) <= r->capacity) return true;
  size_t capacity = 2 * r->capacity;
  uintptr_t* slots = calloc(capacity, sizeof *slots);
  if (slots == NULL) return false;
  for (size_t i = 0; i < r->capacity; i++) {
    if (r->slots[i] != 0) insert(slots, capacity, r->slots[i]);
  }
  free(r->slots);
  r->slots = slots;
  r->capacity = capacity;
  return true;
}

static bool contains(const cg_registry* r, uintptr_t p) {
  for (size_t i = home(p, r->capacity);; i = (i + 1) & (r->capacity - 1)) {
    if (r->slots[i] == p) return true;
    if (r->slots[i] == 0) return false;
  }
}

/* Linear probing with backward-shift deletion: no tombstones, so lookups stay short. */
static void remove_pointer(cg_registry* r, uintptr_t p) {
  const size_t mask = r->capacity - 1;
  size_t i = home(p, r->capacity);
  while (r->slots[i] != p) {
    if (r->slots[i] == 0) return;
    i = (i + 1) & mask;
  }
  r->slots[i] = 0;
  r->count--;
  for (size_t j = (i + 1) & mask; r->slots[j] != 0; j = (j + 1) & mask) {
    const size_t h = home(r->slots[j], r->capacity);
    /* Move slot j back to the hole at i unless its home lies cyclically in (i, j]. */
    const bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
    if (!stays) {
      r->slots[i] = r->slots[j];
      r->slots[j] = 0;
      i = j;
    }
  }
}

static void unregister(cg_session_head* session) {
  cg_registry* r = session->registry;
  if (r == NULL) return;
  session->registry = NULL;
  remove_pointer(r, (uintptr_t)session);
  maybe_free(r);
}

void cg_session_wipe(cg_session_head* session) {
  if (session->wiped) return;
  session->wiped = true;
  session->wipe_keys(session);
  OPENSSL_cleanse(session->mki, sizeof session->mki);
}

void cg_session_free(cg_session_head* session) {
  cg_session_wipe(session);
  unregister(session);
  free(session);
}

static void session_finalize(napi_env env, void* data, void* hint) {
  cg_session_free(data);
}

cg_session_head* cg_session_new(napi_env env, size_t size, cg_kind kind, void (*wipe_keys)(cg_session_head*), napi_value mki) {
  cg_session_head* session = calloc(1, size);
  if (session == NULL) return cg_throw_error(env, "out of memory"), NULL;
  session->kind = kind;
  session->wipe_keys = wipe_keys;
  if (!cg_mki_arg(env, mki, session)) {
    free(session);
    return NULL;
  }
  return session;
}

bool cg_register(napi_env env, napi_value self, cg_session_head* session) {
  cg_registry* r = NULL;
  if (napi_get_instance_data(env, (void**)&r) != napi_ok || r == NULL || !grow(r)) {
    cg_session_free(session);
    return cg_throw_error(env, "cannot register the session");
  }
  insert(r->slots, r->capacity, (uintptr_t)session);
  r->count++;
  session->registry = r;
  if (napi_wrap(env, self, session, session_finalize, NULL, NULL) != napi_ok) {
    cg_session_free(session); /* unregisters it */
    return cg_throw_error(env, "cannot wrap the session");
  }
  return true;
}

void* cg_session(napi_env env, napi_callback_info info, cg_kind kind, size_t argc, napi_value* argv, bool live) {
  size_t given = argc;
  napi_value self;
  if (napi_get_cb_info(env, info, &given, argv, &self, NULL) != napi_ok) {
    cg_throw_error(env, "cannot read the call's arguments");
    return NULL;
  }
  if (given < argc) {
    cg_throw_type(env, "too few arguments");
    return NULL;
  }
  void* session = NULL;
  cg_registry* r = NULL;
  if (napi_unwrap(env, self, &session) != napi_ok || session == NULL || napi_get_instance_data(env, (void**)&r) != napi_ok || r == NULL ||
      !contains(r, (uintptr_t)session) || ((cg_session_head*)session)->kind != kind) {
    cg_throw_type(env, "method called on an object of another type");
    return NULL;
  }
  if (live && ((cg_session_head*)session)->wiped) {
    cg_throw_error(env, "SRTP session keys were wiped");
    return NULL;
  }
  return session;
}

cg_session_head* cg_session_of(napi_env env, napi_value value) {
  void* session = NULL;
  cg_registry* r = NULL;
  if (napi_unwrap(env, value, &session) != napi_ok || session == NULL || napi_get_instance_data(env, (void**)&r) != napi_ok || r == NULL ||
      !contains(r, (uintptr_t)session) || ((cg_session_head*)session)->wiped) {
    bool pending = false;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
      napi_value e;
      napi_get_and_clear_last_exception(env, &e);
    }
    return NULL;
  }
  return session;
}

/* wipe() of every class; the callback's data is its cg_session_class. Allowed on a wiped session. */
static napi_value wipe(napi_env env, napi_callback_info info) {
  void* c = NULL;
  if (napi_get_cb_info(env, info, NULL, NULL, NULL, &c) != napi_ok || c == NULL) return cg_throw_error(env, "cannot read the call's arguments"), NULL;
  cg_session_head* session = cg_session(env, info, ((const cg_session_class*)c)->kind, 0, NULL, false);
  if (session != NULL) cg_session_wipe(session);
  return NULL;
}

bool cg_define_session_class(napi_env env, napi_value exports, const cg_session_class* c) {
  const napi_property_descriptor methods[] = {
      {"protectRtp", NULL, c->protect_rtp, NULL, NULL, NULL, napi_default_method, NULL},
      {"unprotectRtp", NULL, c->unprotect_rtp, NULL, NULL, NULL, napi_default_method, NULL},
      {"protectRtcp", NULL, c->protect_rtcp, NULL, NULL, NULL, napi_default_method, NULL},
      {"unprotectRtcp", NULL, c->unprotect_rtcp, NULL, NULL, NULL, napi_default_method, NULL},
      {"wipe", NULL, wipe, NULL, NULL, NULL, napi_default_method, (void*)c},
  };
  napi_value cls;
  return napi_define_class(env, c->name, NAPI_AUTO_LENGTH, c->construct, NULL, sizeof methods / sizeof methods[0], methods, &cls) == napi_ok &&
         napi_set_named_property(env, exports, c->name, cls) == napi_ok;
}
