/*
 * Shared helpers of the SRTP addon: argument checks that turn every bad argument into a JS
 * TypeError or RangeError before any memory is touched, and the object-type guard of the methods.
 * Nothing here trusts a value coming from JS.
 */
#ifndef CIPHERGATE_SRTP_COMMON_H
#define CIPHERGATE_SRTP_COMMON_H

#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* RFC 4568 §6.1: an MKI is 1 to 128 octets (0 here: no MKI). */
#define CG_MAX_MKI 128
/*
 * Largest packet accepted: RFC 3711 §4.1.1 allows 2^16 keystream blocks (1 MiB) per packet; no UDP
 * datagram comes near it, and the contexts refuse anything above 65535 octets before any crypto.
 */
#define CG_MAX_PACKET (1u << 20)
/* RFC 3550 §6.4.1: the RTCP header up to and including the sender SSRC. */
#define CG_RTCP_HEADER 8
/* RFC 3711 §9.2: the last SRTP index (2^48 - 1) and the last SRTCP index (2^31 - 1). */
#define CG_MAX_SRTP_INDEX 281474976710655.0
#define CG_MAX_SRTCP_INDEX 2147483647.0

/* A writable or read-only view of a JS ArrayBufferView. */
typedef struct {
  uint8_t* data;
  size_t length;
} cg_bytes;

typedef enum { CG_AES_CM = 1, CG_GCM = 2 } cg_kind;
typedef struct cg_registry cg_registry;

/* The parts every session object starts with. */
typedef struct cg_session_head cg_session_head;
struct cg_session_head {
  cg_kind kind;
  bool wiped;
  /* Frees the type's cipher contexts and overwrites its keys and salt (cg_session_wipe does the MKI). */
  void (*wipe_keys)(cg_session_head* session);
  cg_registry* registry; /* NULL once unregistered */
  uint8_t mki[CG_MAX_MKI];
  size_t mki_length;
};

/* One session class as JS sees it (aes_cm.c, gcm.c); cg_define_session_class adds wipe(). */
typedef struct {
  const char* name;
  cg_kind kind;
  napi_callback construct, protect_rtp, unprotect_rtp, protect_rtcp, unprotect_rtcp;
} cg_session_class;

extern const cg_session_class cg_aes_cm_class;
/* Decides once, at module load, whether AesCmSessions use AES-NI (the CPU, CIPHERGATE_SRTP_AESNI). */
void cg_aes_cm_init(void);
/* What an AesCmSession encrypts with: "aes-ni" (its own key schedule) or "openssl". */
const char* cg_aes_cm_cipher(void);
extern const cg_session_class cg_gcm_class;

/* Throw helpers: all return false so a check can `return cg_throw_...`. No message names a secret. */
bool cg_throw_type(napi_env env, const char* message);
bool cg_throw_range(napi_env env, const char* message);
bool cg_throw_error(napi_env env, const char* message);

/* The per-environment registry of live sessions (registry.c); set up once by the module init. */
bool cg_registry_init(napi_env env);
/* Defines class `c` (its methods and wipe()) on `exports` under c->name. */
bool cg_define_session_class(napi_env env, napi_value exports, const cg_session_class* c);
/*
 * A zeroed session of `size` octets (a struct that starts with cg_session_head) of `kind`, its MKI
 * read from `mki` (0..128 octets): NULL with a pending exception when out of memory or the MKI is bad.
 */
cg_session_head* cg_session_new(napi_env env, size_t size, cg_kind kind, void (*wipe_keys)(cg_session_head*), napi_value mki);
/* Registers `session` and wraps it in `self`; on failure frees it and throws. */
bool cg_register(napi_env env, napi_value self, cg_session_head* session);
/* wipe(): wipe_keys, then overwrites the MKI; every later call but wipe() throws. Idempotent. */
void cg_session_wipe(cg_session_head* session);
/* Wipes, unregisters and frees a session (its finalizer, and a constructor's failure path). */
void cg_session_free(cg_session_head* session);

/*
 * Reads `argc` arguments into argv (TypeError when fewer are given) and the session behind `this`:
 * TypeError unless `this` wraps a live session of this environment and of `kind` (checked before
 * any byte of it is read), Error when the session was wiped and `live` is asked for.
 */
void* cg_session(napi_env env, napi_callback_info info, cg_kind kind, size_t argc, napi_value* argv, bool live);

/* The bytes of an ArrayBufferView, or a TypeError naming `what`. */
bool cg_bytes_arg(napi_env env, napi_value value, const char* what, cg_bytes* out);
/* An integer in [0, max], or a TypeError (not a number) / RangeError (fraction, NaN, out of range). */
bool cg_uint_arg(napi_env env, napi_value value, const char* what, double max, uint64_t* out);
bool cg_bool_arg(napi_env env, napi_value value, const char* what, bool* out);

/* Reads the constructor's arguments; TypeError when called without `new` or with too few arguments. */
bool cg_constructor_args(napi_env env, napi_callback_info info, size_t argc, napi_value* argv, napi_value* self);
/* Copies the MKI argument (0..128 octets) into the session head. */
bool cg_mki_arg(napi_env env, napi_value value, cg_session_head* head);

/* Reads a trailing tagLength argument (AES-CM: 1..20, RFC 3711 §4.2.1); NULL where the tag has one length (RFC 7714 §12). */
typedef bool (*cg_tag_arg)(napi_env env, napi_value value, size_t* out);

/* The checked arguments of protectRtp / unprotectRtp / protectRtcp / unprotectRtcp. */
typedef struct {
  cg_bytes in;  /* packet */
  cg_bytes out; /* exactly the octets the call writes */
  uint64_t header; /* SRTP: headerLength (RFC 3711 §3.1, RFC 7714 §8); 0 for SRTCP */
  uint64_t ssrc;
  uint64_t index;  /* SRTP: the 48-bit packet index (RFC 3711 §3.3.1); SRTCP: the 31-bit index (§3.4) */
  bool encrypted;  /* SRTCP: the E flag (RFC 3711 §3.4, RFC 7714 §9) */
  size_t tag;      /* tagLength; 0 without tag_arg */
} cg_packet_args;

/*
 * (packet, out, headerLength, ssrc, index[, tagLength]): the live session behind `this` (see
 * cg_session) and its arguments, checked in that order, then RangeError for a packet longer than
 * CG_MAX_PACKET. NULL with a pending TypeError, RangeError or Error on the first fault.
 */
void* cg_rtp_args(napi_env env, napi_callback_info info, cg_kind kind, cg_tag_arg tag_arg, cg_packet_args* a);
/* (packet, out, ssrc, index, E[, tagLength]), as cg_rtp_args; `flag_what` is the E flag's TypeError message. */
void* cg_rtcp_args(napi_env env, napi_callback_info info, cg_kind kind, const char* flag_what, cg_tag_arg tag_arg, cg_packet_args* a);
/*
 * RangeError (message) unless out is exactly `length` octets; RangeError unless it does not overlap
 * the packet (OpenSSL refuses partial overlap; memcpy forbids it).
 */
bool cg_check_out(napi_env env, const cg_packet_args* a, size_t length, const char* message);

/*
 * The RTP transforms in place, for the relay's fast path (media/relay/io/native): no argument
 * checks (the caller has bounds-checked the packet and knows the session's kind and that it is not
 * wiped), nothing thrown. protect: buf[0, length) is the RTP packet, and buf has room for the
 * trailer after it. unprotect: *authentic tells the verdict and nothing is decrypted unless it is
 * true. Both return false only when OpenSSL fails.
 */
bool cg_aes_cm_protect_rtp_in_place(cg_session_head* session, uint8_t* buf, size_t length, size_t header, uint32_t ssrc, uint64_t index, size_t tag);
bool cg_aes_cm_unprotect_rtp_in_place(cg_session_head* session, uint8_t* buf, size_t length, size_t header, uint32_t ssrc, uint64_t index, size_t tag,
                                      bool* authentic);
bool cg_gcm_protect_rtp_in_place(cg_session_head* session, uint8_t* buf, size_t length, size_t header, uint32_t ssrc, uint64_t index);
bool cg_gcm_unprotect_rtp_in_place(cg_session_head* session, uint8_t* buf, size_t length, size_t header, uint32_t ssrc, uint64_t index, bool* authentic);
/* RFC 7714 §12: the AEAD tag length. */
#define CG_GCM_TAG 16

/*
 * The live session wrapped by `value` (of either kind, registered in this environment and not
 * wiped), or NULL: nothing thrown. For an addon that shares this registry (one module).
 */
cg_session_head* cg_session_of(napi_env env, napi_value value);
/* Defines the session classes and opensslVersion on `exports` (the module init of either addon). */
bool cg_srtp_init(napi_env env, napi_value exports);

/* memcpy that accepts the (NULL, 0) view of an empty or detached buffer. */
static inline void cg_copy(uint8_t* to, const uint8_t* from, size_t length) {
  if (length > 0) memcpy(to, from, length);
}

/* The verdict of an unprotect call as a JS boolean (RFC 3711 §3.3 step 5, RFC 7714 §8.2 step 5). */
static inline napi_value cg_boolean(napi_env env, bool value) {
  napi_value result = NULL;
  napi_get_boolean(env, value, &result);
  return result;
}

static inline void cg_put_be32(uint8_t* p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

#endif
