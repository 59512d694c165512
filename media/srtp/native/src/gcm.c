/*
 * GcmSession: the RFC 7714 transform of one session key set, AEAD_AES_128_GCM / AEAD_AES_256_GCM
 * with the 16-octet tag (§12).
 *
 *   SRTP  (§8):      header || C || tag || [MKI];  AAD = header incl. CSRCs and extension
 *   SRTCP (§9, E=1): header(8) || C || tag || E|index || [MKI];  AAD = header(8) || E|index
 *   SRTCP (§9, E=0): packet || tag || E|index || [MKI];  AAD = packet || E|index, nothing encrypted
 *
 * Two cipher contexts (seal, open) are keyed once; a packet only sets its 12-octet IV. A packet
 * that does not authenticate leaves nothing in the output: it is decrypted into a scratch buffer,
 * copied out only after the tag verified, and the scratch is cleansed otherwise (§8.2 step 5).
 */
#include "common.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define SALT_LENGTH 12
#define IV_LENGTH 12
#define TAG_LENGTH 16
/* Packets up to this size are opened in a stack scratch buffer; larger ones in a heap one. */
#define STACK_SCRATCH 2048

typedef struct {
  cg_session_head head; /* first: cg_session() reads it */
  EVP_CIPHER_CTX* seal;
  EVP_CIPHER_CTX* open;
  uint8_t salt[SALT_LENGTH];
} gcm_session;

static void session_wipe(gcm_session* s) {
  if (s->head.wiped) return;
  s->head.wiped = true;
  EVP_CIPHER_CTX_free(s->seal); /* cleanses the key schedule and GHASH key */
  EVP_CIPHER_CTX_free(s->open);
  s->seal = NULL;
  s->open = NULL;
  OPENSSL_cleanse(s->salt, sizeof s->salt);
  OPENSSL_cleanse(s->head.mki, sizeof s->head.mki);
}

static void session_finalize(napi_env env, void* data, void* hint) {
  session_wipe((gcm_session*)data);
  cg_unregister(data);
  free(data);
}

/* RFC 7714 §8.1 / §9.1: IV = (00 00 || SSRC || ROC || SEQ) XOR salt; SRTCP puts 0 || index in ROC || SEQ. */
static void gcm_iv(const gcm_session* s, uint32_t ssrc, uint64_t index, uint8_t iv[IV_LENGTH]) {
  memcpy(iv, s->salt, SALT_LENGTH);
  iv[2] ^= (uint8_t)(ssrc >> 24);
  iv[3] ^= (uint8_t)(ssrc >> 16);
  iv[4] ^= (uint8_t)(ssrc >> 8);
  iv[5] ^= (uint8_t)ssrc;
  for (int i = 0; i < 6; i++) iv[6 + i] ^= (uint8_t)(index >> (40 - 8 * i));
}

/* Seals: AAD = aad || aad2, C = E(plain) at `cipher`, the tag at `tag`. */
static bool seal(napi_env env, gcm_session* s, const uint8_t iv[IV_LENGTH], const uint8_t* aad, size_t aad_length, const uint8_t* aad2,
                 size_t aad2_length, const uint8_t* plain, size_t length, uint8_t* cipher, uint8_t* tag) {
  EVP_CIPHER_CTX* c = s->seal;
  int n = 0;
  bool ok = EVP_EncryptInit_ex(c, NULL, NULL, NULL, iv) == 1 && (aad_length == 0 || EVP_EncryptUpdate(c, NULL, &n, aad, (int)aad_length) == 1) &&
            (aad2_length == 0 || EVP_EncryptUpdate(c, NULL, &n, aad2, (int)aad2_length) == 1) &&
            (length == 0 || (EVP_EncryptUpdate(c, cipher, &n, plain, (int)length) == 1 && (size_t)n == length)) &&
            EVP_EncryptFinal_ex(c, cipher + length, &n) == 1 && n == 0 && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, TAG_LENGTH, tag) == 1;
  return ok || cg_throw_error(env, "AES-GCM seal failed in OpenSSL");
}

/*
 * Opens: verifies `tag` over AAD = aad || aad2 and `cipher`, and only then writes the plaintext to
 * `plain`. *authentic tells the verdict; false is returned (with a pending exception) only when
 * OpenSSL itself fails.
 */
static bool open_(napi_env env, gcm_session* s, const uint8_t iv[IV_LENGTH], const uint8_t* aad, size_t aad_length, const uint8_t* aad2,
                  size_t aad2_length, const uint8_t* cipher, size_t length, const uint8_t* tag, uint8_t* plain, bool* authentic) {
  uint8_t stack[STACK_SCRATCH];
  uint8_t* scratch = length <= STACK_SCRATCH ? stack : malloc(length);
  if (scratch == NULL) return cg_throw_error(env, "out of memory");
  EVP_CIPHER_CTX* c = s->open;
  int n = 0;
  bool ok = EVP_DecryptInit_ex(c, NULL, NULL, NULL, iv) == 1 && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, TAG_LENGTH, (void*)tag) == 1 &&
            (aad_length == 0 || EVP_DecryptUpdate(c, NULL, &n, aad, (int)aad_length) == 1) &&
            (aad2_length == 0 || EVP_DecryptUpdate(c, NULL, &n, aad2, (int)aad2_length) == 1) &&
            (length == 0 || (EVP_DecryptUpdate(c, scratch, &n, cipher, (int)length) == 1 && (size_t)n == length));
  /* EVP_DecryptFinal_ex compares the tags in constant time (CRYPTO_memcmp) and returns <= 0 on a mismatch. */
  *authentic = ok && EVP_DecryptFinal_ex(c, scratch + length, &n) > 0 && n == 0;
  if (*authentic) {
    cg_copy(plain, scratch, length);
  }
  OPENSSL_cleanse(scratch, length);
  if (scratch != stack) free(scratch);
  return ok || cg_throw_error(env, "AES-GCM open failed in OpenSSL");
}

/* new GcmSession(encryptionKey: 16|32 octets, salt: 12 octets, mki: 0..128 octets) */
static napi_value construct(napi_env env, napi_callback_info info) {
  napi_value argv[3], self;
  cg_bytes key, salt;
  if (!cg_constructor_args(env, info, 3, argv, &self) || !cg_bytes_arg(env, argv[0], "encryptionKey must be a Buffer", &key) ||
      !cg_bytes_arg(env, argv[1], "salt must be a Buffer", &salt)) {
    return NULL;
  }
  if (key.length != 16 && key.length != 32) return cg_throw_range(env, "encryptionKey must be 16 or 32 octets"), NULL;
  if (salt.length != SALT_LENGTH) return cg_throw_range(env, "salt must be 12 octets"), NULL;
  gcm_session* s = calloc(1, sizeof *s);
  if (s == NULL) return cg_throw_error(env, "out of memory"), NULL;
  s->head.kind = CG_GCM;
  if (!cg_mki_arg(env, argv[2], &s->head)) {
    free(s);
    return NULL;
  }
  const EVP_CIPHER* cipher = key.length == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm();
  s->seal = EVP_CIPHER_CTX_new();
  s->open = EVP_CIPHER_CTX_new();
  if (s->seal == NULL || s->open == NULL || EVP_EncryptInit_ex(s->seal, cipher, NULL, key.data, NULL) != 1 ||
      EVP_DecryptInit_ex(s->open, cipher, NULL, key.data, NULL) != 1) {
    session_finalize(env, s, NULL);
    return cg_throw_error(env, "AES-GCM key setup failed in OpenSSL"), NULL;
  }
  memcpy(s->salt, salt.data, SALT_LENGTH);
  return cg_register(env, self, &s->head, session_finalize) ? self : NULL;
}

/* protectRtp(packet, out, headerLength, ssrc, index): out = header || C || tag || MKI */
static napi_value protect_rtp(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  gcm_session* s = cg_session(env, info, CG_GCM, 5, argv, true);
  cg_bytes in = {0}, out = {0};
  uint64_t header = 0, ssrc = 0, index = 0;
  if (s == NULL || !cg_bytes_arg(env, argv[0], "packet must be a Buffer", &in) || !cg_bytes_arg(env, argv[1], "out must be a Buffer", &out) ||
      !cg_uint_arg(env, argv[2], "headerLength out of range", CG_MAX_PACKET, &header) ||
      !cg_uint_arg(env, argv[3], "ssrc must be a 32-bit integer", 4294967295.0, &ssrc) ||
      !cg_uint_arg(env, argv[4], "index must be in 0..2^48-1", CG_MAX_SRTP_INDEX, &index)) {
    return NULL;
  }
  const size_t length = in.length, m = s->head.mki_length;
  if (length > CG_MAX_PACKET) return cg_throw_range(env, "packet longer than 2^20 octets"), NULL;
  if (header > length) return cg_throw_range(env, "headerLength past the end of the packet"), NULL;
  if (out.length != length + TAG_LENGTH + m) return cg_throw_range(env, "out must be packet + tag + MKI octets"), NULL;
  if (!cg_disjoint(env, &in, &out)) return NULL;
  uint8_t iv[IV_LENGTH];
  gcm_iv(s, (uint32_t)ssrc, index, iv);
  cg_copy(out.data, in.data, header);
  if (!seal(env, s, iv, in.data, header, NULL, 0, in.data + header, length - header, out.data + header, out.data + length)) return NULL;
  if (m > 0) memcpy(out.data + length + TAG_LENGTH, s->head.mki, m);
  return NULL;
}

/* unprotectRtp(packet, out, headerLength, ssrc, index): true and out = the RTP packet, or false, out untouched. */
static napi_value unprotect_rtp(napi_env env, napi_callback_info info) {
  napi_value argv[5], result = NULL;
  gcm_session* s = cg_session(env, info, CG_GCM, 5, argv, true);
  cg_bytes in = {0}, out = {0};
  uint64_t header = 0, ssrc = 0, index = 0;
  if (s == NULL || !cg_bytes_arg(env, argv[0], "packet must be a Buffer", &in) || !cg_bytes_arg(env, argv[1], "out must be a Buffer", &out) ||
      !cg_uint_arg(env, argv[2], "headerLength out of range", CG_MAX_PACKET, &header) ||
      !cg_uint_arg(env, argv[3], "ssrc must be a 32-bit integer", 4294967295.0, &ssrc) ||
      !cg_uint_arg(env, argv[4], "index must be in 0..2^48-1", CG_MAX_SRTP_INDEX, &index)) {
    return NULL;
  }
  const size_t length = in.length, m = s->head.mki_length;
  if (length > CG_MAX_PACKET) return cg_throw_range(env, "packet longer than 2^20 octets"), NULL;
  if (length < header + TAG_LENGTH + m) return cg_throw_range(env, "packet shorter than header + tag + MKI"), NULL;
  const size_t end = length - m - TAG_LENGTH;
  if (out.length != end) return cg_throw_range(env, "out must be packet - tag - MKI octets"), NULL;
  if (!cg_disjoint(env, &in, &out)) return NULL;
  uint8_t iv[IV_LENGTH];
  bool authentic = false;
  gcm_iv(s, (uint32_t)ssrc, index, iv);
  if (!open_(env, s, iv, in.data, header, NULL, 0, in.data + header, end - header, in.data + end, out.data + header, &authentic)) return NULL;
  if (authentic) cg_copy(out.data, in.data, header);
  napi_get_boolean(env, authentic, &result);
  return result;
}

/* protectRtcp(packet, out, ssrc, index, encrypt): out = header || C || tag || E|index || MKI (E=0: packet || tag || ...) */
static napi_value protect_rtcp(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  gcm_session* s = cg_session(env, info, CG_GCM, 5, argv, true);
  cg_bytes in = {0}, out = {0};
  uint64_t ssrc = 0, index = 0;
  bool encrypt = false;
  if (s == NULL || !cg_bytes_arg(env, argv[0], "packet must be a Buffer", &in) || !cg_bytes_arg(env, argv[1], "out must be a Buffer", &out) ||
      !cg_uint_arg(env, argv[2], "ssrc must be a 32-bit integer", 4294967295.0, &ssrc) ||
      !cg_uint_arg(env, argv[3], "index must be in 0..2^31-1", CG_MAX_SRTCP_INDEX, &index) ||
      !cg_bool_arg(env, argv[4], "encrypt must be a boolean", &encrypt)) {
    return NULL;
  }
  const size_t length = in.length, m = s->head.mki_length;
  if (length > CG_MAX_PACKET) return cg_throw_range(env, "packet longer than 2^20 octets"), NULL;
  if (length < CG_RTCP_HEADER) return cg_throw_range(env, "RTCP packet shorter than 8 octets"), NULL;
  if (out.length != length + TAG_LENGTH + 4 + m) return cg_throw_range(env, "out must be packet + tag + 4 + MKI octets"), NULL;
  if (!cg_disjoint(env, &in, &out)) return NULL;
  uint8_t iv[IV_LENGTH], word[4];
  cg_put_be32(word, (encrypt ? 0x80000000u : 0) | (uint32_t)index);
  gcm_iv(s, (uint32_t)ssrc, index, iv);
  const size_t clear = encrypt ? CG_RTCP_HEADER : length; /* the authenticated-only prefix */
  cg_copy(out.data, in.data, clear);
  if (!seal(env, s, iv, in.data, clear, word, 4, in.data + clear, length - clear, out.data + clear, out.data + length)) return NULL;
  memcpy(out.data + length + TAG_LENGTH, word, 4);
  if (m > 0) memcpy(out.data + length + TAG_LENGTH + 4, s->head.mki, m);
  return NULL;
}

/* unprotectRtcp(packet, out, ssrc, index, encrypted): true and out = the RTCP packet, or false, out untouched. */
static napi_value unprotect_rtcp(napi_env env, napi_callback_info info) {
  napi_value argv[5], result = NULL;
  gcm_session* s = cg_session(env, info, CG_GCM, 5, argv, true);
  cg_bytes in = {0}, out = {0};
  uint64_t ssrc = 0, index = 0;
  bool encrypted = false;
  if (s == NULL || !cg_bytes_arg(env, argv[0], "packet must be a Buffer", &in) || !cg_bytes_arg(env, argv[1], "out must be a Buffer", &out) ||
      !cg_uint_arg(env, argv[2], "ssrc must be a 32-bit integer", 4294967295.0, &ssrc) ||
      !cg_uint_arg(env, argv[3], "index must be in 0..2^31-1", CG_MAX_SRTCP_INDEX, &index) ||
      !cg_bool_arg(env, argv[4], "encrypted must be a boolean", &encrypted)) {
    return NULL;
  }
  const size_t length = in.length, m = s->head.mki_length;
  if (length > CG_MAX_PACKET) return cg_throw_range(env, "packet longer than 2^20 octets"), NULL;
  if (length < CG_RTCP_HEADER + TAG_LENGTH + 4 + m) return cg_throw_range(env, "packet shorter than header + tag + E|index + MKI"), NULL;
  const size_t word_at = length - m - 4, tag_at = word_at - TAG_LENGTH;
  if (out.length != tag_at) return cg_throw_range(env, "out must be packet - tag - 4 - MKI octets"), NULL;
  if (!cg_disjoint(env, &in, &out)) return NULL;
  uint8_t iv[IV_LENGTH];
  bool authentic = false;
  gcm_iv(s, (uint32_t)ssrc, index, iv);
  const size_t clear = encrypted ? CG_RTCP_HEADER : tag_at;
  /* The AAD takes the E|index word as it is on the wire (§9.1). */
  if (!open_(env, s, iv, in.data, clear, in.data + word_at, 4, in.data + clear, tag_at - clear, in.data + tag_at, out.data + clear, &authentic)) {
    return NULL;
  }
  if (authentic) cg_copy(out.data, in.data, clear);
  napi_get_boolean(env, authentic, &result);
  return result;
}

/* wipe(): frees both cipher contexts and overwrites the salt and MKI; later calls throw. */
static napi_value wipe(napi_env env, napi_callback_info info) {
  gcm_session* s = cg_session(env, info, CG_GCM, 0, NULL, false);
  if (s != NULL) session_wipe(s);
  return NULL;
}

bool cg_define_gcm(napi_env env, napi_value exports) {
  const napi_property_descriptor methods[] = {
      {"protectRtp", NULL, protect_rtp, NULL, NULL, NULL, napi_default_method, NULL},
      {"unprotectRtp", NULL, unprotect_rtp, NULL, NULL, NULL, napi_default_method, NULL},
      {"protectRtcp", NULL, protect_rtcp, NULL, NULL, NULL, napi_default_method, NULL},
      {"unprotectRtcp", NULL, unprotect_rtcp, NULL, NULL, NULL, napi_default_method, NULL},
      {"wipe", NULL, wipe, NULL, NULL, NULL, napi_default_method, NULL},
  };
  napi_value cls;
  return napi_define_class(env, "GcmSession", NAPI_AUTO_LENGTH, construct, NULL, sizeof methods / sizeof methods[0], methods, &cls) == napi_ok &&
         napi_set_named_property(env, exports, "GcmSession", cls) == napi_ok;
}
