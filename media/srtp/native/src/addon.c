/*
 * The Ciphergate SRTP addon: AES-CM + HMAC-SHA1 (RFC 3711) and AES-GCM (RFC 7714) session objects
 * on the OpenSSL that node itself links and exports. Context-aware (NAPI_MODULE_INIT), so it loads
 * in every worker thread; it keeps no global mutable state.
 */
#include "common.h"

#include <openssl/crypto.h>
#include <openssl/opensslv.h>

NAPI_MODULE_INIT() {
  /* The headers are node's own; refuse to run on a different OpenSSL major version all the same. */
  if (OPENSSL_version_major() != OPENSSL_VERSION_MAJOR) {
    cg_throw_error(env, "node's OpenSSL major version differs from the addon's headers");
    return NULL;
  }
  napi_value version;
  if (!cg_registry_init(env) || !cg_define_session_class(env, exports, &cg_aes_cm_class) || !cg_define_session_class(env, exports, &cg_gcm_class) ||
      napi_create_string_utf8(env, OpenSSL_version(OPENSSL_VERSION), NAPI_AUTO_LENGTH, &version) != napi_ok ||
      napi_set_named_property(env, exports, "opensslVersion", version) != napi_ok) {
    cg_throw_error(env, "cannot define the SRTP addon's exports");
    return NULL;
  }
  return exports;
}
