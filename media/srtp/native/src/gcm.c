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

/* wipe() (cg_session_wipe): frees both cipher contexts and overwrites the salt. */
static void wipe_keys(cg_session_head* head) {
  gcm_session* s = (gcm_session*)head;
  EVP_CIPHER_CTX_free(s->seal); /* cleanses the key schedule and GHASH key */
  EVP_CIPHER_CTX_free(s->open);
  s->seal = NULL;
  s->open = NULL;
  OPENSSL_cleanse(s->salt, sizeof s->salt);
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

/* Seals: AAD = aad || aad2, C = E(plain) at `cipher` (cipher == plain allowed), the tag at `tag`; false when OpenSSL fails. */
static bool seal_raw(gcm_session* s, const uint8_t iv[IV_LENGTH], const uint8_t* aad, size_t aad_length, const uint8_t* aad2, size_t aad2_length,
                     const uint8_t* plain, size_t length, uint8_t* cipher, uint8_t* tag) {
  EVP_CIPHER_CTX* c = s->seal;
  int n = 0;
  return EVP_EncryptInit_ex(c, NULL, NULL, NULL, iv) == 1 && (aad_length == 0 || EVP_EncryptUpdate(c, NULL, &n, aad, (int)aad_length) == 1) &&
         (aad2_length == 0 || EVP_EncryptUpdate(c, NULL, &n, aad2, (int)aad2_length) == 1) &&
         (length == 0 || (EVP_EncryptUpdate(c, cipher, &n, plain, (int)length) == 1 && (size_t)n == length)) &&
         EVP_EncryptFinal_ex(c, cipher + length, &n) == 1 && n == 0 && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, TAG_LENGTH, tag) == 1;
}

static bool seal(napi_env env, gcm_session* s, const uint8_t iv[IV_LENGTH], const uint8_t* aad, size_t aad_length, const uint8_t* aad2,
                 size_t aad2_length, const uint8_t* plain, size_t length, uint8_t* cipher, uint8_t* tag) {
  return seal_raw(s, iv, aad, aad_length, aad2, aad2_length, plain, length, cipher, tag) || cg_throw_error(env, "AES-GCM seal failed in OpenSSL");
}

/*
 * Opens: verifies `tag` over AAD = aad || aad2 and `cipher`, and only then writes the plaintext to
 * `plain` (which may be `cipher`). *authentic tells the verdict; false is returned only when
 * OpenSSL itself fails (raw: nothing thrown; open_: with a pending exception).
 */
static bool open_raw(gcm_session* s, const uint8_t iv[IV_LENGTH], const uint8_t* aad, size_t aad_length, const uint8_t* aad2, size_t aad2_length,
                     const uint8_t* cipher, size_t length, const uint8_t* tag, uint8_t* plain, bool* authentic) {
  uint8_t stack[STACK_SCRATCH];
  *authentic = false;
  uint8_t* scratch = length <= STACK_SCRATCH ? stack : malloc(length);
  if (scratch == NULL) return false;
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
  return ok;
}

static bool open_(napi_env env, gcm_session* s, const uint8_t iv[IV_LENGTH], const uint8_t* aad, size_t aad_length, const uint8_t* aad2,
                  size_t aad2_length, const uint8_t* cipher, size_t length, const uint8_t* tag, uint8_t* plain, bool* authentic) {
  return open_raw(s, iv, aad, aad_length, aad2, aad2_length, cipher, length, tag, plain, authentic) || cg_throw_error(env, "AES-GCM open failed in OpenSSL");
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
  gcm_session* s = (gcm_session*)cg_session_new(env, sizeof *s, CG_GCM, wipe_keys, argv[2]);
  if (s == NULL) return NULL;
  const EVP_CIPHER* cipher = key.length == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm();
  s->seal = EVP_CIPHER_CTX_new();
  s->open = EVP_CIPHER_CTX_new();
  if (s->seal == NULL || s->open == NULL || EVP_EncryptInit_ex(s->seal, cipher, NULL, key.data, NULL) != 1 ||
      EVP_DecryptInit_ex(s->open, cipher, NULL, key.data, NULL) != 1) {
    cg_session_free(&s->head);
    return cg_throw_error(env, "AES-GCM key setup failed in OpenSSL"), NULL;
  }
  memcpy(s->salt, salt.data, SALT_LENGTH);
  return cg_register(env, self, &s->head) ? self : NULL;
}

/* protectRtp(packet, out, headerLength, ssrc, index): out = header || C || tag || MKI */
static napi_value protect_rtp(napi_env env, napi_callback_info info) {
  cg_packet_args a;
  gcm_session* s = cg_rtp_args(env, info, CG_GCM, NULL, &a);
  if (s == NULL) return NULL;
  const size_t length = a.in.length, m = s->head.mki_length, header = a.header;
  if (header > length) return cg_throw_range(env, "headerLength past the end of the packet"), NULL;
  if (!cg_check_out(env, &a, length + TAG_LENGTH + m, "out must be packet + tag + MKI octets")) return NULL;
  uint8_t iv[IV_LENGTH];
  gcm_iv(s, (uint32_t)a.ssrc, a.index, iv);
  cg_copy(a.out.data, a.in.data, header);
  if (!seal(env, s, iv, a.in.data, header, NULL, 0, a.in.data + header, length - header, a.out.data + header, a.out.data + length)) return NULL;
  if (m > 0) memcpy(a.out.data + length + TAG_LENGTH, s->head.mki, m);
  return NULL;
}

/* unprotectRtp(packet, out, headerLength, ssrc, index): true and out = the RTP packet, or false, out untouched. */
static napi_value unprotect_rtp(napi_env env, napi_callback_info info) {
  cg_packet_args a;
  gcm_session* s = cg_rtp_args(env, info, CG_GCM, NULL, &a);
  if (s == NULL) return NULL;
  const size_t length = a.in.length, m = s->head.mki_length, header = a.header;
  if (length < header + TAG_LENGTH + m) return cg_throw_range(env, "packet shorter than header + tag + MKI"), NULL;
  const size_t end = length - m - TAG_LENGTH;
  if (!cg_check_out(env, &a, end, "out must be packet - tag - MKI octets")) return NULL;
  uint8_t iv[IV_LENGTH];
  bool authentic = false;
  gcm_iv(s, (uint32_t)a.ssrc, a.index, iv);
  if (!open_(env, s, iv, a.in.data, header, NULL, 0, a.in.data + header, end - header, a.in.data + end, a.out.data + header, &authentic)) return NULL;
  if (authentic) cg_copy(a.out.data, a.in.data, header);
  return cg_boolean(env, authentic);
}

/* protectRtcp(packet, out, ssrc, index, encrypt): out = header || C || tag || E|index || MKI (E=0: packet || tag || ...) */
static napi_value protect_rtcp(napi_env env, napi_callback_info info) {
  cg_packet_args a;
  gcm_session* s = cg_rtcp_args(env, info, CG_GCM, "encrypt must be a boolean", NULL, &a);
  if (s == NULL) return NULL;
  const size_t length = a.in.length, m = s->head.mki_length;
  if (length < CG_RTCP_HEADER) return cg_throw_range(env, "RTCP packet shorter than 8 octets"), NULL;
  if (!cg_check_out(env, &a, length + TAG_LENGTH + 4 + m, "out must be packet + tag + 4 + MKI octets")) return NULL;
  uint8_t iv[IV_LENGTH], word[4];
  cg_put_be32(word, (a.encrypted ? 0x80000000u : 0) | (uint32_t)a.index);
  gcm_iv(s, (uint32_t)a.ssrc, a.index, iv);
  const size_t clear = a.encrypted ? CG_RTCP_HEADER : length; /* the authenticated-only prefix */
  cg_copy(a.out.data, a.in.data, clear);
  if (!seal(env, s, iv, a.in.data, clear, word, 4, a.in.data + clear, length - clear, a.out.data + clear, a.out.data + length)) return NULL;
  memcpy(a.out.data + length + TAG_LENGTH, word, 4);
  if (m > 0) memcpy(a.out.data + length + TAG_LENGTH + 4, s->head.mki, m);
  return NULL;
}

/* unprotectRtcp(packet, out, ssrc, index, encrypted): true and out = the RTCP packet, or false, out untouched. */
static napi_value unprotect_rtcp(napi_env env, napi_callback_info info) {
  cg_packet_args a;
  gcm_session* s = cg_rtcp_args(env, info, CG_GCM, "encrypted must be a boolean", NULL, &a);
  if (s == NULL) return NULL;
  const size_t length = a.in.length, m = s->head.mki_length;
  if (length < CG_RTCP_HEADER + TAG_LENGTH + 4 + m) return cg_throw_range(env, "packet shorter than header + tag + E|index + MKI"), NULL;
  const size_t word_at = length - m - 4, tag_at = word_at - TAG_LENGTH;
  if (!cg_check_out(env, &a, tag_at, "out must be packet - tag - 4 - MKI octets")) return NULL;
  uint8_t iv[IV_LENGTH];
  bool authentic = false;
  gcm_iv(s, (uint32_t)a.ssrc, a.index, iv);
  const size_t clear = a.encrypted ? CG_RTCP_HEADER : tag_at;
  /* The AAD takes the E|index word as it is on the wire (§9.1). */
  if (!open_(env, s, iv, a.in.data, clear, a.in.data + word_at, 4, a.in.data + clear, tag_at - clear, a.in.data + tag_at, a.out.data + clear, &authentic)) {
    return NULL;
  }
  if (authentic) cg_copy(a.out.data, a.in.data, clear);
  return cg_boolean(env, authentic);
}

/* In place, for the relay's fast path (common.h): buf holds the RTP packet and room for tag + MKI after it. */
bool cg_gcm_protect_rtp_in_place(cg_session_head* head, uint8_t* buf, size_t length, size_t header, uint32_t ssrc, uint64_t index) {
  gcm_session* s = (gcm_session*)head;
  uint8_t iv[IV_LENGTH];
  gcm_iv(s, ssrc, index, iv);
  if (!seal_raw(s, iv, buf, header, NULL, 0, buf + header, length - header, buf + header, buf + length)) return false;
  if (head->mki_length > 0) memcpy(buf + length + TAG_LENGTH, head->mki, head->mki_length);
  return true;
}

/* In place: verifies buf[0, length) (header || C || tag || MKI) and only then writes the plaintext over C. */
bool cg_gcm_unprotect_rtp_in_place(cg_session_head* head, uint8_t* buf, size_t length, size_t header, uint32_t ssrc, uint64_t index, bool* authentic) {
  gcm_session* s = (gcm_session*)head;
  const size_t end = length - head->mki_length - TAG_LENGTH;
  uint8_t iv[IV_LENGTH];
  gcm_iv(s, ssrc, index, iv);
  return open_raw(s, iv, buf, header, NULL, 0, buf + header, end - header, buf + end, buf + header, authentic);
}

const cg_session_class cg_gcm_class = {"GcmSession", CG_GCM, construct, protect_rtp, unprotect_rtp, protect_rtcp, unprotect_rtcp};
