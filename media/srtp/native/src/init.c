/*
 * The SRTP session classes on a module's exports: shared by the SRTP addon (addon.c) and the relay
 * threads' socket addon (media/relay/io/native), which carries them so that its fast path can use
 * the very sessions the relay's SRTP contexts hold (one module, one session registry).
 */
#include "common.h"

#include <openssl/crypto.h>
#include <openssl/opensslv.h>

static napi_value aes_cm_cipher(napi_env env, napi_callback_info info) {
  napi_value out;
  return napi_create_string_utf8(env, cg_aes_cm_cipher(), NAPI_AUTO_LENGTH, &out) == napi_ok ? out : NULL;
}

bool cg_srtp_init(napi_env env, napi_value exports) {
  /* The headers are node's own; refuse to run on a different OpenSSL major version all the same. */
  if (OPENSSL_version_major() != OPENSSL_VERSION_MAJOR) {
    return cg_throw_error(env, "node's OpenSSL major version differs from the addon's headers");
  }
  cg_aes_cm_init();
  napi_value version, cipher;
  if (!cg_registry_init(env) || !cg_define_session_class(env, exports, &cg_aes_cm_class) || !cg_define_session_class(env, exports, &cg_gcm_class) ||
      napi_create_string_utf8(env, OpenSSL_version(OPENSSL_VERSION), NAPI_AUTO_LENGTH, &version) != napi_ok ||
      napi_set_named_property(env, exports, "opensslVersion", version) != napi_ok ||
      napi_create_function(env, "aesCmCipher", NAPI_AUTO_LENGTH, aes_cm_cipher, NULL, &cipher) != napi_ok ||
      napi_set_named_property(env, exports, "aesCmCipher", cipher) != napi_ok) {
    return cg_throw_error(env, "cannot define the SRTP addon's exports");
  }
  return true;
}
