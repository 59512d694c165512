/* Argument checks of the SRTP addon (see common.h). */
#include "common.h"

#include <math.h>
#include <openssl/err.h>
#include <string.h>

static bool pending(napi_env env) {
  bool is_pending = false;
  return napi_is_exception_pending(env, &is_pending) == napi_ok && is_pending;
}

bool cg_throw_type(napi_env env, const char* message) {
  if (!pending(env)) napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
  return false;
}

bool cg_throw_range(napi_env env, const char* message) {
  if (!pending(env)) napi_throw_range_error(env, "ERR_OUT_OF_RANGE", message);
  return false;
}

bool cg_throw_error(napi_env env, const char* message) {
  ERR_clear_error(); /* a failed OpenSSL call must not leave its error for node:crypto to find */
  if (!pending(env)) napi_throw_error(env, NULL, message);
  return false;
}

bool cg_bytes_arg(napi_env env, napi_value value, const char* what, cg_bytes* out) {
  void* data = NULL;
  size_t length = 0;
  /* napi_get_buffer_info itself refuses anything but an ArrayBufferView (napi_invalid_arg). */
  if (napi_get_buffer_info(env, value, &data, &length) != napi_ok) return cg_throw_type(env, what);
  /* A detached buffer reads as (NULL, 0): every length check below then refuses or copies nothing. */
  out->data = length > 0 ? (uint8_t*)data : NULL;
  out->length = out->data != NULL ? length : 0;
  return true;
}

bool cg_uint_arg(napi_env env, napi_value value, const char* what, double max, uint64_t* out) {
  double d = 0;
  if (napi_get_value_double(env, value, &d) != napi_ok) return cg_throw_type(env, what);
  if (!(d >= 0 && d <= max) || floor(d) != d) return cg_throw_range(env, what);
  *out = (uint64_t)d;
  return true;
}

bool cg_bool_arg(napi_env env, napi_value value, const char* what, bool* out) {
  if (napi_get_value_bool(env, value, out) != napi_ok) return cg_throw_type(env, what);
  return true;
}

/* RangeError unless the two views are disjoint. */
static bool cg_disjoint(napi_env env, const cg_bytes* a, const cg_bytes* b) {
  if (a->length == 0 || b->length == 0) return true;
  uintptr_t a0 = (uintptr_t)a->data, b0 = (uintptr_t)b->data;
  if (a0 < b0 + b->length && b0 < a0 + a->length) return cg_throw_range(env, "input and output buffers overlap");
  return true;
}

bool cg_check_out(napi_env env, const cg_packet_args* a, size_t length, const char* message) {
  if (a->out.length != length) return cg_throw_range(env, message);
  return cg_disjoint(env, &a->in, &a->out);
}

bool cg_constructor_args(napi_env env, napi_callback_info info, size_t argc, napi_value* argv, napi_value* self) {
  napi_value target = NULL;
  if (napi_get_new_target(env, info, &target) != napi_ok || target == NULL) return cg_throw_type(env, "constructor needs `new`");
  size_t given = argc;
  if (napi_get_cb_info(env, info, &given, argv, self, NULL) != napi_ok) return cg_throw_error(env, "cannot read the call's arguments");
  if (given < argc) return cg_throw_type(env, "too few arguments");
  return true;
}

bool cg_mki_arg(napi_env env, napi_value value, cg_session_head* head) {
  cg_bytes mki;
  if (!cg_bytes_arg(env, value, "mki must be a Buffer", &mki)) return false;
  if (mki.length > CG_MAX_MKI) return cg_throw_range(env, "mki must be at most 128 octets");
  if (mki.length > 0) memcpy(head->mki, mki.data, mki.length);
  head->mki_length = mki.length;
  return true;
}

/*
 * The argument walk of the four packet methods: `this`, packet and out; then headerLength, ssrc and
 * the 48-bit index (SRTP), or ssrc, the 31-bit index and the E flag (SRTCP); then tagLength; then the
 * packet size. Each check runs only when the ones before it passed, so the first fault is the one thrown.
 */
static void* packet_args(napi_env env, napi_callback_info info, cg_kind kind, bool rtcp, const char* flag_what, cg_tag_arg tag_arg,
                         cg_packet_args* a) {
  napi_value argv[6];
  *a = (cg_packet_args){0};
  void* session = cg_session(env, info, kind, tag_arg != NULL ? 6 : 5, argv, true);
  if (session == NULL || !cg_bytes_arg(env, argv[0], "packet must be a Buffer", &a->in) || !cg_bytes_arg(env, argv[1], "out must be a Buffer", &a->out)) {
    return NULL;
  }
  bool ok;
  if (rtcp) { /* RFC 3711 §3.4, RFC 7714 §9: the SSRC, the 31-bit SRTCP index and the E flag */
    ok = cg_uint_arg(env, argv[2], "ssrc must be a 32-bit integer", 4294967295.0, &a->ssrc) &&
         cg_uint_arg(env, argv[3], "index must be in 0..2^31-1", CG_MAX_SRTCP_INDEX, &a->index) && cg_bool_arg(env, argv[4], flag_what, &a->encrypted);
  } else { /* RFC 3711 §3.1 and §3.3.1, RFC 7714 §8: the header's length, the SSRC and the 48-bit packet index */
    ok = cg_uint_arg(env, argv[2], "headerLength out of range", CG_MAX_PACKET, &a->header) &&
         cg_uint_arg(env, argv[3], "ssrc must be a 32-bit integer", 4294967295.0, &a->ssrc) &&
         cg_uint_arg(env, argv[4], "index must be in 0..2^48-1", CG_MAX_SRTP_INDEX, &a->index);
  }
  if (!ok || (tag_arg != NULL && !tag_arg(env, argv[5], &a->tag))) return NULL;
  if (a->in.length > CG_MAX_PACKET) return cg_throw_range(env, "packet longer than 2^20 octets"), NULL;
  return session;
}

void* cg_rtp_args(napi_env env, napi_callback_info info, cg_kind kind, cg_tag_arg tag_arg, cg_packet_args* a) {
  return packet_args(env, info, kind, false, NULL, tag_arg, a);
}

void* cg_rtcp_args(napi_env env, napi_callback_info info, cg_kind kind, const char* flag_what, cg_tag_arg tag_arg, cg_packet_args* a) {
  return packet_args(env, info, kind, true, flag_what, tag_arg, a);
}
