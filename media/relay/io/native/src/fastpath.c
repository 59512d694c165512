/*
 * The relay's native fast path: one direction of a relayed RTP stream, in C, right after the
 * datagram is read, without a call into JavaScript. It is the receive and send path of
 * media/relay/leg.ts for the one case that carries nearly every packet of a call in progress, and
 * it does exactly what that path does, in the same order, on state handed over from the
 * JavaScript objects and taken back before JavaScript touches them again (media/relay/fast.ts):
 *
 *   match     RTP port of a rule, from the latched source, version 2, not RTCP (RFC 5761 §4),
 *             the one SSRC of the rule; anything else goes to JavaScript (its token taken here)
 *   1. token bucket                                               → dropped: flood
 *   5. SRTP: header bounds, index estimate (RFC 3711 §3.3.1), MKI, replay check (§3.3.2),
 *      authenticate + decrypt in place; any refusal goes to JavaScript, which refuses it again
 *      and counts why; only after success the replay window moves
 *   4. RTP header length, padding (RFC 3550 §5.1)                 → dropped: malformed
 *   6. payload type mapped to the other leg's                     → dropped: payload-type
 *   7. latch time, counters, RFC 3550 §A.1 sequence tracking
 *   send: payload type, continuity rewrite (continuity.ts), SRTP protect in place with the next
 *         index (refused reuse → dropped: srtp-error), sendto(2) to the other leg's destination
 *
 * Once a packet of a rule went to JavaScript, the rule's later packets of the same batch follow it
 * there, so JavaScript sees them in order. The RTCP port of a rule's leg only has its token taken here.
 * Nothing here allocates; the crypto is the SRTP addon's (one module: media/srtp/native).
 */
#define _GNU_SOURCE
#include "fastpath.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define FP_NAME(name, text) text,
static const char *const FIELD_NAMES[] = {FP_FIELDS(FP_NAME) NULL};
#undef FP_NAME

const char *const *fp_field_names(void) {
  return FIELD_NAMES;
}

/* RFC 3550 §A.1 defaults (sequence.ts). */
#define MAX_DROPOUT 3000
#define MAX_MISORDER 100
/* RFC 3711 §9.2: the last index a master key may protect. */
#define MAX_SRTP_INDEX 0xffffffffffffLL

static inline uint32_t be32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline void put_be16(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

/* rtp.ts seqDelta: a - b as a signed 16-bit distance. */
static inline int32_t seq_delta(uint32_t a, uint32_t b) {
  return (int32_t)((a - b + 0x8000u) & 0xffffu) - 0x8000;
}

static bool same_source(const fp_addr *a, const struct sockaddr_storage *b) {
  if (a->sa.sa_family != b->ss_family) return false;
  if (b->ss_family == AF_INET) {
    const struct sockaddr_in *y = (const struct sockaddr_in *)b;
    return a->v4.sin_port == y->sin_port && a->v4.sin_addr.s_addr == y->sin_addr.s_addr;
  }
  const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)b;
  return a->v6.sin6_port == y->sin6_port && memcmp(&a->v6.sin6_addr, &y->sin6_addr, 16) == 0;
}

/* --- replay window (media/srtp/replay.ts) ------------------------------------------------------ */

static inline bool win_is_set(const fp_window *w, int64_t index) {
  uint32_t s = (uint32_t)(index % w->size);
  return (w->words[s >> 5] & (1u << (s & 31))) != 0;
}

/* ReplayWindow.check: fresh (true) or replayed / too old. */
static bool win_fresh(const fp_window *w, int64_t index) {
  if (index > w->top) return true;
  if (w->top - index >= (int64_t)w->size) return false;
  return !win_is_set(w, index);
}

/* ReplayWindow.accept. */
static void win_accept(fp_window *w, int64_t index) {
  if (index > w->top) {
    int64_t advance = index - w->top;
    if (w->top < 0 || advance >= (int64_t)w->size) {
      memset(w->words, 0, sizeof w->words);
    } else {
      for (int64_t i = w->top + 1; i <= index; i++) {
        uint32_t s = (uint32_t)(i % w->size);
        w->words[s >> 5] &= ~(1u << (s & 31));
      }
    }
    w->top = index;
  }
  uint32_t s = (uint32_t)(index % w->size);
  w->words[s >> 5] |= 1u << (s & 31);
}

/* roc.ts estimatePacketIndex (RFC 3711 §3.3.1, Appendix A); may be negative or past the last index. */
static int64_t estimate_index(int64_t highest, uint32_t seq) {
  if (highest < 0) return seq;
  int64_t roc = highest >> 16;
  int64_t sl = highest & 0xffff;
  int64_t v = roc;
  if (sl < 0x8000) {
    if ((int64_t)seq - sl > 0x8000) v = roc - 1;
  } else if (sl - 0x8000 > (int64_t)seq) {
    v = roc + 1;
  }
  return v * 0x10000 + seq;
}

/*
 * The header length (fixed part, CSRCs, extension: RFC 3550 §5.1, §5.3.1) with `trailer` octets
 * after it, or -1: parseRtpHeader (media/srtp/packet.ts), as SRTP reads it before any crypto.
 */
static int64_t header_length(const uint8_t *p, size_t length, size_t trailer) {
  if (length < 12 + trailer) return -1;
  size_t header = 12 + 4 * (size_t)(p[0] & 0x0f);
  if (header + trailer > length) return -1;
  if (p[0] & 0x10) {
    if (header + 4 + trailer > length) return -1;
    header += 4 + 4 * (((size_t)p[header + 2] << 8) | p[header + 3]);
    if (header + trailer > length) return -1;
  }
  return (int64_t)header;
}

/* rtp.ts rtpHeaderLength: the header of a clear RTP packet, version 2 and padding checked, or -1. */
static int64_t rtp_header_length(const uint8_t *p, size_t length) {
  if (length < 12 || (p[0] >> 6) != 2) return -1;
  const int64_t header = header_length(p, length, 0);
  if (header >= 0 && (p[0] & 0x20)) {
    const uint8_t pad = p[length - 1]; /* RFC 3550 §5.1: counts itself */
    if (pad == 0 || (size_t)header + pad > length) return -1;
  }
  return header;
}

static size_t trailer_of(const cg_session_head *s, uint32_t tag) {
  return s == NULL ? 0 : tag + s->mki_length;
}

/* leg.ts refill. */
static bool refill(fp_rule *r, double now) {
  double elapsed = now - r->refilled_at;
  if (elapsed <= 0) return false;
  r->tokens = fmin(r->rate, r->tokens + elapsed * r->rate / 1000);
  r->refilled_at = now;
  return r->tokens >= 1;
}

/* Step 1 for every datagram on a rule's ports: false when it is dropped as a flood (counted). */
static bool charge(fp_rule *r, double now) {
  if (r->tokens < 1 && !refill(r, now)) {
    r->deltas[FP_DROP_FLOOD - FP_RX_PACKETS]++;
    return false;
  }
  r->tokens--;
  return true;
}

/* sequence.ts SequenceTracker.update for the rule's own SSRC, and stats.ts track's restart sum. */
static void track(fp_rule *r, uint32_t seq) {
  int32_t delta = seq_delta(seq, r->max_seq);
  if (delta > MAX_DROPOUT || delta < -MAX_MISORDER) {
    if ((int32_t)seq != r->bad_seq) {
      r->bad_seq = (int32_t)((seq + 1) & 0xffff);
      return;
    }
    double expected = r->cycles + r->max_seq - (double)r->base_seq + 1;
    r->lost_at_restart = fmax(0, expected - r->received);
    r->lost_before += r->lost_at_restart;
    r->base_seq = r->max_seq = seq;
    r->cycles = 0;
    r->bad_seq = -1;
    r->received = 1;
    return;
  }
  if (delta > 0) {
    if (seq < r->max_seq) r->cycles += 0x10000;
    r->max_seq = seq;
  }
  r->received++;
}

fp_verdict fp_receive(fp_sock *socks, uint32_t id, uint8_t *p, size_t length, size_t room, const struct sockaddr_storage *from, double now,
                      uint32_t batch) {
  fp_rule *r = socks[id].rule;
  if (!charge(r, now)) return FP_DONE;
  if (id != r->rtp_id || r->deferred_batch == batch) return FP_TO_JS;
  /* The match: anything unusual is JavaScript's, which then takes the rule back. */
  const size_t in_trailer = trailer_of(r->in, r->in_tag), out_trailer = trailer_of(r->out, r->out_tag);
  if (length < 12 || length < in_trailer || length - in_trailer + out_trailer > room || !same_source(&r->source, from) || (p[0] >> 6) != 2 ||
      (p[1] >= 192 && p[1] <= 223) || be32(p + 8) != r->ssrc || (r->in != NULL && r->in->wiped) || (r->out != NULL && r->out->wiped)) {
    goto to_js;
  }
  const uint32_t seq = ((uint32_t)p[2] << 8) | p[3];
  size_t plain = length;
  if (r->in != NULL) {
    /* Step 5 (RFC 3711 §3.3): header, index, MKI, replay; authenticate and decrypt; only then accept. */
    const int64_t header = header_length(p, length, in_trailer);
    if (header < 0) goto to_js;
    const int64_t index = estimate_index(r->win_in.top, seq);
    const size_t m = r->in->mki_length;
    if (m > 0 && memcmp(p + (r->in->kind == CG_GCM ? length - m : length - r->in_tag - m), r->in->mki, m) != 0) goto to_js;
    if (index < 0 || index > MAX_SRTP_INDEX || !win_fresh(&r->win_in, index)) goto to_js;
    bool authentic = false;
    bool ok = r->in->kind == CG_GCM ? cg_gcm_unprotect_rtp_in_place(r->in, p, length, (size_t)header, r->ssrc, (uint64_t)index, &authentic)
                                    : cg_aes_cm_unprotect_rtp_in_place(r->in, p, length, (size_t)header, r->ssrc, (uint64_t)index, r->in_tag, &authentic);
    if (!ok || !authentic) goto to_js;
    win_accept(&r->win_in, index);
    plain = length - in_trailer;
  }
  /* Step 4 on the clear packet (its padding count is only readable now), then step 6. */
  const int64_t header = rtp_header_length(p, plain);
  if (header < 0) {
    r->deltas[FP_DROP_MALFORMED - FP_RX_PACKETS]++;
    return FP_DONE;
  }
  const uint8_t out_pt = r->pmap[p[1] & 0x7f];
  if (out_pt >= 128) {
    r->deltas[FP_DROP_PAYLOAD_TYPE - FP_RX_PACKETS]++;
    return FP_DONE;
  }
  /* Step 7: latch time, counters, loss. */
  r->accepted_at = now;
  r->deltas[FP_RX_PACKETS - FP_RX_PACKETS]++;
  r->deltas[FP_RX_BYTES - FP_RX_PACKETS] += (double)length;
  track(r, seq);
  /* Send (leg.ts sendRtp): payload type, continuity, protect, sendto. */
  if ((p[1] & 0x7f) != out_pt) p[1] = (uint8_t)((p[1] & 0x80) | out_pt);
  uint32_t out_seq = seq;
  if (r->rewriting) {
    out_seq = (seq + r->seq_offset) & 0xffff;
    const uint32_t ts = be32(p + 4) + r->ts_offset;
    put_be16(p + 2, out_seq);
    cg_put_be32(p + 4, ts);
    cg_put_be32(p + 8, r->out_ssrc);
  }
  if (seq_delta(out_seq, r->last_out_seq) > 0) {
    r->last_out_seq = out_seq;
    r->last_out_ts = be32(p + 4);
    r->last_out_at = now;
  }
  size_t out_length = plain;
  if (r->out != NULL) {
    const int64_t index = estimate_index(r->win_out.top, out_seq);
    if (index < 0 || index > MAX_SRTP_INDEX || !win_fresh(&r->win_out, index)) {
      r->deltas[FP_DROP_SRTP_ERROR - FP_RX_PACKETS]++;
      return FP_DONE;
    }
    /* The header step 4 measured: the rewrite changed no length. */
    const uint32_t out_ssrc = be32(p + 8);
    bool ok = r->out->kind == CG_GCM ? cg_gcm_protect_rtp_in_place(r->out, p, plain, (size_t)header, out_ssrc, (uint64_t)index)
                                     : cg_aes_cm_protect_rtp_in_place(r->out, p, plain, (size_t)header, out_ssrc, (uint64_t)index, r->out_tag);
    if (!ok) {
      r->deltas[FP_DROP_SRTP_ERROR - FP_RX_PACKETS]++;
      return FP_DONE;
    }
    win_accept(&r->win_out, index);
    out_length = plain + out_trailer;
  }
  const fp_sock *tx = &socks[r->tx_id];
  if (tx->fd < 0 || tx->gen != r->tx_gen || sendto(tx->fd, p, out_length, MSG_DONTWAIT, &r->dest.sa, r->dest_len) < 0) {
    r->deltas[FP_SEND_ERRORS - FP_RX_PACKETS]++;
  }
  r->deltas[FP_TX_PACKETS - FP_RX_PACKETS]++;
  r->deltas[FP_TX_BYTES - FP_RX_PACKETS] += (double)out_length;
  return FP_DONE;

to_js:
  r->deferred_batch = batch;
  return FP_TO_JS;
}

static void load_window(fp_window *w, double top, double size, const double *words) {
  w->top = (int64_t)top;
  w->size = (uint32_t)size;
  for (int i = 0; i < FP_WINDOW_WORDS; i++) w->words[i] = (uint32_t)words[i];
}

static void save_window(const fp_window *w, double *top, double *words) {
  *top = (double)w->top;
  for (int i = 0; i < FP_WINDOW_WORDS; i++) words[i] = w->words[i];
}

/* The fields a take and a place copy as they are, each way (the others need more than a copy). */
typedef enum { AS_U32, AS_I32, AS_F64, AS_BOOL } fp_as;
static const struct {
  uint8_t field;
  uint8_t as;
  uint16_t offset;
} PLAIN[] = {
    {FP_RATE, AS_F64, offsetof(fp_rule, rate)},
    {FP_SSRC, AS_U32, offsetof(fp_rule, ssrc)},
    {FP_IN_TAG, AS_U32, offsetof(fp_rule, in_tag)},
    {FP_OUT_TAG, AS_U32, offsetof(fp_rule, out_tag)},
    {FP_T_BASE, AS_U32, offsetof(fp_rule, base_seq)},
    {FP_T_MAX, AS_U32, offsetof(fp_rule, max_seq)},
    {FP_T_CYCLES, AS_F64, offsetof(fp_rule, cycles)},
    {FP_T_RECEIVED, AS_F64, offsetof(fp_rule, received)},
    {FP_T_BAD, AS_I32, offsetof(fp_rule, bad_seq)},
    {FP_T_LOST_AT_RESTART, AS_F64, offsetof(fp_rule, lost_at_restart)},
    {FP_REWRITING, AS_BOOL, offsetof(fp_rule, rewriting)},
    {FP_OUT_SSRC, AS_U32, offsetof(fp_rule, out_ssrc)},
    {FP_SEQ_OFFSET, AS_U32, offsetof(fp_rule, seq_offset)},
    {FP_TS_OFFSET, AS_U32, offsetof(fp_rule, ts_offset)},
    {FP_LAST_OUT_SEQ, AS_U32, offsetof(fp_rule, last_out_seq)},
    {FP_LAST_OUT_TS, AS_U32, offsetof(fp_rule, last_out_ts)},
};
#define PLAIN_COUNT (sizeof PLAIN / sizeof PLAIN[0])

fp_rule *fp_load(const double *s, double now) {
  fp_rule *r = calloc(1, sizeof *r);
  if (r == NULL) return NULL;
  for (size_t i = 0; i < PLAIN_COUNT; i++) {
    char *at = (char *)r + PLAIN[i].offset;
    const double v = s[PLAIN[i].field];
    switch (PLAIN[i].as) {
      case AS_U32: *(uint32_t *)at = (uint32_t)v; break;
      case AS_I32: *(int32_t *)at = (int32_t)v; break;
      case AS_F64: *(double *)at = v; break;
      case AS_BOOL: *(bool *)at = v != 0; break;
    }
  }
  r->tokens = s[FP_TOKENS];
  r->refilled_at = now;
  load_window(&r->win_in, s[FP_IN_TOP], s[FP_IN_SIZE], s + FP_FIELD_COUNT);
  load_window(&r->win_out, s[FP_OUT_TOP], s[FP_OUT_SIZE], s + FP_FIELD_COUNT + FP_WINDOW_WORDS);
  r->last_out_at = -1;
  r->accepted_at = -1;
  r->deferred_batch = UINT32_MAX;
  return r;
}

void fp_save(fp_rule *r, double *s, double now) {
  for (size_t i = 0; i < PLAIN_COUNT; i++) {
    const char *at = (const char *)r + PLAIN[i].offset;
    double *v = &s[PLAIN[i].field];
    switch (PLAIN[i].as) {
      case AS_U32: *v = *(const uint32_t *)at; break;
      case AS_I32: *v = *(const int32_t *)at; break;
      case AS_F64: *v = *(const double *)at; break;
      case AS_BOOL: *v = *(const bool *)at ? 1 : 0; break;
    }
  }
  refill(r, now); /* the tokens as of now: JavaScript's bucket goes on from here */
  s[FP_TOKENS] = r->tokens;
  s[FP_IN_SIZE] = r->win_in.size;
  s[FP_OUT_SIZE] = r->win_out.size;
  save_window(&r->win_in, &s[FP_IN_TOP], s + FP_FIELD_COUNT);
  save_window(&r->win_out, &s[FP_OUT_TOP], s + FP_FIELD_COUNT + FP_WINDOW_WORDS);
  s[FP_LOST_BEFORE] = r->lost_before;
  r->lost_before = 0;
  s[FP_LAST_OUT_AGO] = r->last_out_at < 0 ? -1 : fmax(0, now - r->last_out_at);
  s[FP_ACCEPTED_AGO] = r->accepted_at < 0 ? -1 : fmax(0, now - r->accepted_at);
  r->last_out_at = r->accepted_at = -1;
  for (int i = FP_RX_PACKETS; i <= FP_SEND_ERRORS; i++) {
    s[i] = r->deltas[i - FP_RX_PACKETS];
    r->deltas[i - FP_RX_PACKETS] = 0;
  }
}

void fp_free(napi_env env, fp_sock *socks, uint32_t cap, fp_rule *r) {
  if (r->rtp_id < cap && socks[r->rtp_id].rule == r) socks[r->rtp_id].rule = NULL;
  if (r->rtcp_id < cap && socks[r->rtcp_id].rule == r) socks[r->rtcp_id].rule = NULL;
  if (r->in_ref != NULL) napi_delete_reference(env, r->in_ref);
  if (r->out_ref != NULL) napi_delete_reference(env, r->out_ref);
  free(r);
}
