/*
 * The Ciphergate SRTP addon: AES-CM + HMAC-SHA1 (RFC 3711) and AES-GCM (RFC 7714) session objects
 * on the OpenSSL that node itself links and exports (init.c). Context-aware (NAPI_MODULE_INIT), so
 * it loads in every worker thread; it keeps no global mutable state.
 */
#include "common.h"

NAPI_MODULE_INIT() {
  return cg_srtp_init(env, exports) ? exports : NULL;
}
