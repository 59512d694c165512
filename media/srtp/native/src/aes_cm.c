/*
 * AesCmSession: the RFC 3711 transform of one session key set (SRTP or SRTCP of one direction):
 * AES counter mode (§4.1.1; RFC 6188 §3 for AES-256) and HMAC-SHA1 (§4.2.1).
 *
 *   SRTP  (§3.1): header || E(payload) || [MKI] || tag,    tag = HMAC(header || E(payload) || ROC)
 *   SRTCP (§3.4): header || E(rest) || E|index || [MKI] || tag,  tag = HMAC(header .. E|index)
 *
 * The cipher is keyed once: a packet's keystream is its counter blocks encrypted (§4.1.1: the block
 * counter is the IV's low 16 bits), with no per-packet cipher (re)initialisation, which costs OpenSSL
 * as much as the AES of a voice packet. On x86-64 CPUs with AES-NI the counter blocks are encrypted
 * here, four at a time, under a key schedule expanded here (FIPS 197 §5.2, with AESKEYGENASSIST):
 * OpenSSL's ECB entry point spent more per voice packet on its buffering than on the AES itself
 * (docs/BENCHMARKS.md, session 11). Elsewhere, or with CIPHERGATE_SRTP_AESNI=0 in the environment
 * when the addon loads, an OpenSSL AES-ECB context does it. HMAC keeps the SHA-1
 * states after the key's inner and outer pad blocks (RFC 2104 §2), so a packet costs only its own
 * compression-function calls plus one for the outer hash, and no allocation.
 */
#include "common.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define CG_AESNI 1
#include <immintrin.h>
#endif

#define SALT_LENGTH 14
#define BLOCK 16
#define SHA1_BLOCK 64
/* Keystream made per EVP call: a voice packet's in one, larger ones in steps of this. */
#define KEYSTREAM_BLOCKS 64

/* Round keys of AES-128 (11) or AES-256 (15), FIPS 197 §5.2. */
#define MAX_ROUND_KEYS 15

typedef struct {
  cg_session_head head; /* first: cg_session() reads it */
  EVP_CIPHER_CTX* ecb; /* AES-ECB under the session key, when not AES-NI (rounds == 0) */
  uint8_t round_keys[MAX_ROUND_KEYS * BLOCK]; /* the AES-NI key schedule */
  int rounds; /* 10 or 14 with AES-NI; 0: the ECB context */
  SHA_CTX inner; /* SHA-1 state after (K XOR ipad) */
  SHA_CTX outer; /* SHA-1 state after (K XOR opad) */
  uint8_t salt[SALT_LENGTH];
} aes_cm_session;

/* wipe() (cg_session_wipe): frees the cipher context and overwrites the HMAC states and salt. */
static void wipe_keys(cg_session_head* head) {
  aes_cm_session* s = (aes_cm_session*)head;
  EVP_CIPHER_CTX_free(s->ecb); /* cleanses the key schedule */
  s->ecb = NULL;
  OPENSSL_cleanse(s->round_keys, sizeof s->round_keys);
  s->rounds = 0;
  OPENSSL_cleanse(&s->inner, sizeof s->inner);
  OPENSSL_cleanse(&s->outer, sizeof s->outer);
  OPENSSL_cleanse(s->salt, sizeof s->salt);
}

/* RFC 2104 §2: keys longer than a block are hashed first, shorter ones are zero-padded. */
static void hmac_pads(aes_cm_session* s, const uint8_t* key, size_t length) {
  uint8_t k[SHA1_BLOCK] = {0};
  uint8_t pad[SHA1_BLOCK];
  if (length > SHA1_BLOCK) {
    SHA1(key, length, k);
  } else if (length > 0) {
    memcpy(k, key, length);
  }
  for (int i = 0; i < SHA1_BLOCK; i++) pad[i] = k[i] ^ 0x36;
  SHA1_Init(&s->inner);
  SHA1_Update(&s->inner, pad, SHA1_BLOCK);
  for (int i = 0; i < SHA1_BLOCK; i++) pad[i] = k[i] ^ 0x5c;
  SHA1_Init(&s->outer);
  SHA1_Update(&s->outer, pad, SHA1_BLOCK);
  OPENSSL_cleanse(k, sizeof k);
  OPENSSL_cleanse(pad, sizeof pad);
}

/* HMAC-SHA1 over data[0, length), then the 32-bit big-endian ROC when `with_roc` (RFC 3711 §4.2). */
static void hmac(const aes_cm_session* s, const uint8_t* data, size_t length, bool with_roc, uint32_t roc, uint8_t mac[SHA_DIGEST_LENGTH]) {
  SHA_CTX c = s->inner;
  uint8_t inner[SHA_DIGEST_LENGTH];
  if (length > 0) SHA1_Update(&c, data, length);
  if (with_roc) {
    uint8_t word[4];
    cg_put_be32(word, roc);
    SHA1_Update(&c, word, 4);
  }
  SHA1_Final(inner, &c);
  c = s->outer;
  SHA1_Update(&c, inner, SHA_DIGEST_LENGTH);
  SHA1_Final(mac, &c);
  OPENSSL_cleanse(&c, sizeof c);
}

/* The counter block k_s * 2^16 XOR SSRC * 2^64 XOR index * 2^16 (RFC 3711 §4.1.1). */
static void counter_block(const aes_cm_session* s, uint32_t ssrc, uint64_t index, uint8_t iv[BLOCK]) {
  memcpy(iv, s->salt, SALT_LENGTH);
  iv[14] = 0;
  iv[15] = 0;
  iv[4] ^= (uint8_t)(ssrc >> 24);
  iv[5] ^= (uint8_t)(ssrc >> 16);
  iv[6] ^= (uint8_t)(ssrc >> 8);
  iv[7] ^= (uint8_t)ssrc;
  for (int i = 0; i < 6; i++) iv[8 + i] ^= (uint8_t)(index >> (40 - 8 * i));
}

#ifdef CG_AESNI
/* One step of the AES-128 key expansion (FIPS 197 §5.2): w[i] = w[i-4] ^ SubWord(RotWord(w[i-1])) ^ Rcon, and on. */
__attribute__((target("aes,sse2"))) static __m128i expand_128(__m128i key, __m128i assist) {
  assist = _mm_shuffle_epi32(assist, 0xff);
  key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
  key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
  key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
  return _mm_xor_si128(key, assist);
}

/* The AES-256 step for the odd round keys: SubWord without RotWord or Rcon (§5.2, i mod Nk = 4). */
__attribute__((target("aes,sse2"))) static __m128i expand_256_odd(__m128i even, __m128i odd) {
  const __m128i assist = _mm_shuffle_epi32(_mm_aeskeygenassist_si128(even, 0), 0xaa);
  odd = _mm_xor_si128(odd, _mm_slli_si128(odd, 4));
  odd = _mm_xor_si128(odd, _mm_slli_si128(odd, 4));
  odd = _mm_xor_si128(odd, _mm_slli_si128(odd, 4));
  return _mm_xor_si128(odd, assist);
}

#define STEP_128(i, rcon) rk[i] = expand_128(rk[(i) - 1], _mm_aeskeygenassist_si128(rk[(i) - 1], rcon))
#define STEP_256(i, rcon)                                                              \
  do {                                                                                  \
    rk[i] = expand_128(rk[(i) - 2], _mm_aeskeygenassist_si128(rk[(i) - 1], rcon));     \
    if ((i) + 1 < 15) rk[(i) + 1] = expand_256_odd(rk[i], rk[(i) - 1]);                \
  } while (0)

/* The round keys of a 16- or 32-octet key into s->round_keys. */
__attribute__((target("aes,sse2"))) static void aesni_expand(aes_cm_session* s, const uint8_t* key, size_t length) {
  __m128i rk[MAX_ROUND_KEYS];
  rk[0] = _mm_loadu_si128((const __m128i*)key);
  if (length == 16) {
    STEP_128(1, 0x01); STEP_128(2, 0x02); STEP_128(3, 0x04); STEP_128(4, 0x08); STEP_128(5, 0x10);
    STEP_128(6, 0x20); STEP_128(7, 0x40); STEP_128(8, 0x80); STEP_128(9, 0x1b); STEP_128(10, 0x36);
    s->rounds = 10;
  } else {
    rk[1] = _mm_loadu_si128((const __m128i*)(key + 16));
    STEP_256(2, 0x01); STEP_256(4, 0x02); STEP_256(6, 0x04); STEP_256(8, 0x08);
    STEP_256(10, 0x10); STEP_256(12, 0x20); STEP_256(14, 0x40);
    s->rounds = 14;
  }
  for (int i = 0; i <= s->rounds; i++) _mm_storeu_si128((__m128i*)(s->round_keys + i * BLOCK), rk[i]);
  OPENSSL_cleanse(rk, sizeof rk);
}

/* out = in XOR AES(counter blocks from `iv`), four blocks at a time (their AES rounds interleave). */
__attribute__((target("aes,sse2"))) static void aesni_ctr_xor(const aes_cm_session* s, const uint8_t iv[BLOCK], uint8_t* out, const uint8_t* in, size_t length) {
  const int rounds = s->rounds;
  const __m128i k0 = _mm_loadu_si128((const __m128i*)s->round_keys);
  const __m128i kn = _mm_loadu_si128((const __m128i*)(s->round_keys + rounds * BLOCK));
  const __m128i base = _mm_loadu_si128((const __m128i*)iv); /* its last two octets are 0 */
  /* Block j's counter: j big-endian in octets 14-15, the high lane of the 16-bit words. */
#define COUNTER(j) _mm_insert_epi16(base, (int)(uint16_t)(((j) >> 8) | (((j) & 0xff) << 8)), 7)
  uint32_t j = 0;
  size_t done = 0;
  for (; length - done >= 4 * BLOCK; done += 4 * BLOCK, j += 4) {
    __m128i b0 = _mm_xor_si128(COUNTER(j), k0), b1 = _mm_xor_si128(COUNTER(j + 1), k0);
    __m128i b2 = _mm_xor_si128(COUNTER(j + 2), k0), b3 = _mm_xor_si128(COUNTER(j + 3), k0);
    for (int r = 1; r < rounds; r++) {
      const __m128i k = _mm_loadu_si128((const __m128i*)(s->round_keys + r * BLOCK));
      b0 = _mm_aesenc_si128(b0, k);
      b1 = _mm_aesenc_si128(b1, k);
      b2 = _mm_aesenc_si128(b2, k);
      b3 = _mm_aesenc_si128(b3, k);
    }
    b0 = _mm_aesenclast_si128(b0, kn);
    b1 = _mm_aesenclast_si128(b1, kn);
    b2 = _mm_aesenclast_si128(b2, kn);
    b3 = _mm_aesenclast_si128(b3, kn);
    _mm_storeu_si128((__m128i*)(out + done), _mm_xor_si128(b0, _mm_loadu_si128((const __m128i*)(in + done))));
    _mm_storeu_si128((__m128i*)(out + done + BLOCK), _mm_xor_si128(b1, _mm_loadu_si128((const __m128i*)(in + done + BLOCK))));
    _mm_storeu_si128((__m128i*)(out + done + 2 * BLOCK), _mm_xor_si128(b2, _mm_loadu_si128((const __m128i*)(in + done + 2 * BLOCK))));
    _mm_storeu_si128((__m128i*)(out + done + 3 * BLOCK), _mm_xor_si128(b3, _mm_loadu_si128((const __m128i*)(in + done + 3 * BLOCK))));
  }
  for (; done < length; done += BLOCK, j++) {
    __m128i b = _mm_xor_si128(COUNTER(j), k0);
    for (int r = 1; r < rounds; r++) b = _mm_aesenc_si128(b, _mm_loadu_si128((const __m128i*)(s->round_keys + r * BLOCK)));
    b = _mm_aesenclast_si128(b, kn);
    if (length - done >= BLOCK) {
      _mm_storeu_si128((__m128i*)(out + done), _mm_xor_si128(b, _mm_loadu_si128((const __m128i*)(in + done))));
    } else {
      uint8_t keystream[BLOCK];
      _mm_storeu_si128((__m128i*)keystream, b);
      for (size_t i = 0; i < length - done; i++) out[done + i] = in[done + i] ^ keystream[i];
      OPENSSL_cleanse(keystream, sizeof keystream); /* session key material (§4.1.1) */
    }
  }
#undef COUNTER
}

#endif

/*
 * Whether sessions use AES-NI: the CPU has it and CIPHERGATE_SRTP_AESNI is not "0". Decided once per
 * process, when the module first loads (cg_aes_cm_init), not per session: getenv must not race a
 * setenv of another thread, and every thread's sessions must agree.
 */
static bool use_aesni = false;
static pthread_once_t aesni_decided = PTHREAD_ONCE_INIT;

static void decide_aesni(void) {
#ifdef CG_AESNI
  const char* env = getenv("CIPHERGATE_SRTP_AESNI");
  __builtin_cpu_init();
  use_aesni = !(env != NULL && strcmp(env, "0") == 0) && __builtin_cpu_supports("aes");
#endif
}

/* Every thread that loads the module calls this; the first decides, once per process. */
void cg_aes_cm_init(void) {
  pthread_once(&aesni_decided, decide_aesni);
}

/* out[0, length) = in[0, length) XOR the keystream from counter block `iv` (out == in allowed); false when OpenSSL fails. */
static bool ctr_xor_raw(aes_cm_session* s, const uint8_t iv[BLOCK], uint8_t* out, const uint8_t* in, size_t length) {
#ifdef CG_AESNI
  if (s->rounds != 0) {
    aesni_ctr_xor(s, iv, out, in, length);
    return true;
  }
#endif
  uint8_t counters[KEYSTREAM_BLOCKS * BLOCK], keystream[KEYSTREAM_BLOCKS * BLOCK];
  uint32_t block = 0; /* at most 2^16 per packet (§4.1.1; CG_MAX_PACKET): only the IV's low 16 bits count */
  bool ok = true;
  for (size_t done = 0; done < length && ok;) {
    const size_t octets = length - done < sizeof keystream ? length - done : sizeof keystream;
    const size_t blocks = (octets + BLOCK - 1) / BLOCK;
    for (size_t i = 0; i < blocks; i++, block++) {
      memcpy(counters + i * BLOCK, iv, BLOCK - 2);
      counters[i * BLOCK + 14] = (uint8_t)(block >> 8);
      counters[i * BLOCK + 15] = (uint8_t)block;
    }
    int written = 0;
    ok = EVP_EncryptUpdate(s->ecb, keystream, &written, counters, (int)(blocks * BLOCK)) == 1 && (size_t)written == blocks * BLOCK;
    for (size_t i = 0; ok && i < octets; i++) out[done + i] = in[done + i] ^ keystream[i];
    done += octets;
  }
  /* Both derive from session key material (the counter blocks carry the salt, §4.1.1). */
  const size_t used = length < sizeof keystream ? (length + BLOCK - 1) / BLOCK * BLOCK : sizeof keystream;
  OPENSSL_cleanse(keystream, used);
  OPENSSL_cleanse(counters, used);
  return ok;
}

static bool ctr_xor(napi_env env, aes_cm_session* s, const uint8_t iv[BLOCK], uint8_t* out, const uint8_t* in, size_t length) {
  return ctr_xor_raw(s, iv, out, in, length) || cg_throw_error(env, "AES-CM failed in OpenSSL");
}

static bool tag_length_arg(napi_env env, napi_value value, size_t* out) {
  uint64_t t = 0;
  if (!cg_uint_arg(env, value, "tagLength must be an integer in 1..20", SHA_DIGEST_LENGTH, &t)) return false;
  if (t == 0) return cg_throw_range(env, "tagLength must be an integer in 1..20");
  *out = (size_t)t;
  return true;
}

/* new AesCmSession(encryptionKey: 16|32 octets, authenticationKey, salt: 14 octets, mki: 0..128 octets) */
static napi_value construct(napi_env env, napi_callback_info info) {
  napi_value argv[4], self;
  cg_bytes key, auth, salt;
  if (!cg_constructor_args(env, info, 4, argv, &self) || !cg_bytes_arg(env, argv[0], "encryptionKey must be a Buffer", &key) ||
      !cg_bytes_arg(env, argv[1], "authenticationKey must be a Buffer", &auth) || !cg_bytes_arg(env, argv[2], "salt must be a Buffer", &salt)) {
    return NULL;
  }
  if (key.length != 16 && key.length != 32) return cg_throw_range(env, "encryptionKey must be 16 or 32 octets"), NULL;
  if (auth.length > 1024) return cg_throw_range(env, "authenticationKey must be at most 1024 octets"), NULL;
  if (salt.length != SALT_LENGTH) return cg_throw_range(env, "salt must be 14 octets"), NULL;
  aes_cm_session* s = (aes_cm_session*)cg_session_new(env, sizeof *s, CG_AES_CM, wipe_keys, argv[3]);
  if (s == NULL) return NULL;
#ifdef CG_AESNI
  if (use_aesni) aesni_expand(s, key.data, key.length);
#endif
  if (s->rounds == 0) {
    s->ecb = EVP_CIPHER_CTX_new();
    const EVP_CIPHER* cipher = key.length == 16 ? EVP_aes_128_ecb() : EVP_aes_256_ecb();
    if (s->ecb == NULL || EVP_EncryptInit_ex(s->ecb, cipher, NULL, key.data, NULL) != 1 || EVP_CIPHER_CTX_set_padding(s->ecb, 0) != 1) {
      cg_session_free(&s->head);
      return cg_throw_error(env, "AES-CM key setup failed in OpenSSL"), NULL;
    }
  }
  hmac_pads(s, auth.data, auth.length);
  memcpy(s->salt, salt.data, SALT_LENGTH);
  return cg_register(env, self, &s->head) ? self : NULL;
}

/* protectRtp(packet, out, headerLength, ssrc, index, tagLength): out = header || E(payload) || MKI || tag */
static napi_value protect_rtp(napi_env env, napi_callback_info info) {
  cg_packet_args a;
  aes_cm_session* s = cg_rtp_args(env, info, CG_AES_CM, tag_length_arg, &a);
  if (s == NULL) return NULL;
  const size_t length = a.in.length, m = s->head.mki_length, header = a.header, tag = a.tag;
  if (header > length) return cg_throw_range(env, "headerLength past the end of the packet"), NULL;
  if (!cg_check_out(env, &a, length + m + tag, "out must be packet + MKI + tag octets")) return NULL;
  uint8_t iv[BLOCK], mac[SHA_DIGEST_LENGTH];
  cg_copy(a.out.data, a.in.data, header);
  counter_block(s, (uint32_t)a.ssrc, a.index, iv);
  if (!ctr_xor(env, s, iv, a.out.data + header, a.in.data + header, length - header)) return NULL;
  if (m > 0) memcpy(a.out.data + length, s->head.mki, m);
  hmac(s, a.out.data, length, true, (uint32_t)(a.index >> 16), mac);
  memcpy(a.out.data + length + m, mac, tag);
  return NULL;
}

/* unprotectRtp(packet, out, headerLength, ssrc, index, tagLength): true and out = the RTP packet, or false (§3.3 step 5). */
static napi_value unprotect_rtp(napi_env env, napi_callback_info info) {
  cg_packet_args a;
  aes_cm_session* s = cg_rtp_args(env, info, CG_AES_CM, tag_length_arg, &a);
  if (s == NULL) return NULL;
  const size_t length = a.in.length, m = s->head.mki_length, header = a.header, tag = a.tag;
  if (length < header + m + tag) return cg_throw_range(env, "packet shorter than header + MKI + tag"), NULL;
  const size_t end = length - m - tag;
  if (!cg_check_out(env, &a, end, "out must be packet - MKI - tag octets")) return NULL;
  uint8_t mac[SHA_DIGEST_LENGTH], iv[BLOCK];
  hmac(s, a.in.data, end, true, (uint32_t)(a.index >> 16), mac);
  const bool authentic = CRYPTO_memcmp(mac, a.in.data + length - tag, tag) == 0;
  if (authentic) {
    cg_copy(a.out.data, a.in.data, header);
    counter_block(s, (uint32_t)a.ssrc, a.index, iv);
    if (!ctr_xor(env, s, iv, a.out.data + header, a.in.data + header, end - header)) return NULL;
  }
  return cg_boolean(env, authentic);
}

/* protectRtcp(packet, out, ssrc, index, encrypt, tagLength): out = header || E(rest) || E|index || MKI || tag */
static napi_value protect_rtcp(napi_env env, napi_callback_info info) {
  cg_packet_args a;
  aes_cm_session* s = cg_rtcp_args(env, info, CG_AES_CM, "encrypt must be a boolean", tag_length_arg, &a);
  if (s == NULL) return NULL;
  const size_t length = a.in.length, m = s->head.mki_length, tag = a.tag;
  if (length < CG_RTCP_HEADER) return cg_throw_range(env, "RTCP packet shorter than 8 octets"), NULL;
  if (!cg_check_out(env, &a, length + 4 + m + tag, "out must be packet + 4 + MKI + tag octets")) return NULL;
  uint8_t iv[BLOCK], mac[SHA_DIGEST_LENGTH];
  if (a.encrypted) {
    memcpy(a.out.data, a.in.data, CG_RTCP_HEADER);
    counter_block(s, (uint32_t)a.ssrc, a.index, iv);
    if (!ctr_xor(env, s, iv, a.out.data + CG_RTCP_HEADER, a.in.data + CG_RTCP_HEADER, length - CG_RTCP_HEADER)) return NULL;
  } else {
    cg_copy(a.out.data, a.in.data, length);
  }
  cg_put_be32(a.out.data + length, (a.encrypted ? 0x80000000u : 0) | (uint32_t)a.index);
  if (m > 0) memcpy(a.out.data + length + 4, s->head.mki, m);
  hmac(s, a.out.data, length + 4, false, 0, mac);
  memcpy(a.out.data + length + 4 + m, mac, tag);
  return NULL;
}

/* unprotectRtcp(packet, out, ssrc, index, encrypted, tagLength): true and out = the RTCP packet, or false. */
static napi_value unprotect_rtcp(napi_env env, napi_callback_info info) {
  cg_packet_args a;
  aes_cm_session* s = cg_rtcp_args(env, info, CG_AES_CM, "encrypted must be a boolean", tag_length_arg, &a);
  if (s == NULL) return NULL;
  const size_t length = a.in.length, m = s->head.mki_length, tag = a.tag;
  if (length < CG_RTCP_HEADER + 4 + m + tag) return cg_throw_range(env, "packet shorter than header + E|index + MKI + tag"), NULL;
  const size_t auth_end = length - m - tag;
  if (!cg_check_out(env, &a, auth_end - 4, "out must be packet - 4 - MKI - tag octets")) return NULL;
  uint8_t mac[SHA_DIGEST_LENGTH], iv[BLOCK];
  hmac(s, a.in.data, auth_end, false, 0, mac);
  const bool authentic = CRYPTO_memcmp(mac, a.in.data + length - tag, tag) == 0;
  if (authentic) {
    if (a.encrypted) {
      memcpy(a.out.data, a.in.data, CG_RTCP_HEADER);
      counter_block(s, (uint32_t)a.ssrc, a.index, iv);
      if (!ctr_xor(env, s, iv, a.out.data + CG_RTCP_HEADER, a.in.data + CG_RTCP_HEADER, a.out.length - CG_RTCP_HEADER)) return NULL;
    } else {
      cg_copy(a.out.data, a.in.data, a.out.length);
    }
  }
  return cg_boolean(env, authentic);
}

/* In place, for the relay's fast path (common.h): buf holds the RTP packet and room for MKI + tag after it. */
bool cg_aes_cm_protect_rtp_in_place(cg_session_head* head, uint8_t* buf, size_t length, size_t header, uint32_t ssrc, uint64_t index, size_t tag) {
  aes_cm_session* s = (aes_cm_session*)head;
  const size_t m = head->mki_length;
  uint8_t iv[BLOCK], mac[SHA_DIGEST_LENGTH];
  counter_block(s, ssrc, index, iv);
  if (!ctr_xor_raw(s, iv, buf + header, buf + header, length - header)) return false;
  if (m > 0) memcpy(buf + length, head->mki, m);
  hmac(s, buf, length, true, (uint32_t)(index >> 16), mac);
  memcpy(buf + length + m, mac, tag);
  return true;
}

/* In place: verifies buf[0, length) (header || E(payload) || MKI || tag) and only then decrypts it. */
bool cg_aes_cm_unprotect_rtp_in_place(cg_session_head* head, uint8_t* buf, size_t length, size_t header, uint32_t ssrc, uint64_t index, size_t tag,
                                      bool* authentic) {
  aes_cm_session* s = (aes_cm_session*)head;
  const size_t end = length - head->mki_length - tag;
  uint8_t mac[SHA_DIGEST_LENGTH], iv[BLOCK];
  hmac(s, buf, end, true, (uint32_t)(index >> 16), mac);
  *authentic = CRYPTO_memcmp(mac, buf + length - tag, tag) == 0;
  if (!*authentic) return true;
  counter_block(s, ssrc, index, iv);
  return ctr_xor_raw(s, iv, buf + header, buf + header, end - header);
}

/* What sessions key: "aes-ni" or "openssl" (the addon's aesCmCipher(), for tests and diagnostics). */
const char* cg_aes_cm_cipher(void) {
  return use_aesni ? "aes-ni" : "openssl";
}

const cg_session_class cg_aes_cm_class = {"AesCmSession", CG_AES_CM, construct, protect_rtp, unprotect_rtp, protect_rtcp, unprotect_rtcp};
