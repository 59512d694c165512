/*
 * The relay's native fast path (fastpath.c): the per-packet work of one direction of a latched,
 * non-transcoded RTP stream, done right after recvmmsg(2) without calling JavaScript. See fastpath.c.
 */
#ifndef CIPHERGATE_FASTPATH_H
#define CIPHERGATE_FASTPATH_H

#include <netinet/in.h>
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "../../../../srtp/native/src/common.h"

/* Replay windows of up to this many 32-bit words (1,024 packets) are carried; larger ones stay in JavaScript. */
#define FP_WINDOW_WORDS 32

/*
 * The rule's state as JavaScript hands it over and takes it back: one Float64Array, these fields in
 * this order (exported as FAST_FIELDS, so the TypeScript side finds each by name), then the two
 * replay windows' words (FP_WINDOW_WORDS each, in, then out).
 */
#define FP_FIELDS(X)                                                                                  \
  X(TOKENS, "tokens")                   /* the receiving leg's token bucket */                       \
  X(RATE, "rate")                       /* its refill, packets per second */                         \
  X(SSRC, "ssrc")                       /* the one source relayed here */                            \
  X(IN_TAG, "inTag")                    /* SRTP tag octets on receive; 0 = plain RTP leg */          \
  X(IN_TOP, "inTop")                    /* receive replay window: highest index accepted */          \
  X(IN_SIZE, "inSize")                  /* its size in packets (multiple of 32) */                   \
  X(OUT_TAG, "outTag")                  /* SRTP tag octets on send; 0 = plain RTP leg */             \
  X(OUT_TOP, "outTop")                  /* send index window: highest index sent */                  \
  X(OUT_SIZE, "outSize")                                                                             \
  X(T_BASE, "seqBase")                  /* RFC 3550 §A.1 of the receiving leg's source */            \
  X(T_MAX, "seqMax")                                                                                 \
  X(T_CYCLES, "seqCycles")                                                                           \
  X(T_RECEIVED, "seqReceived")                                                                       \
  X(T_BAD, "seqBad")                                                                                 \
  X(T_LOST_AT_RESTART, "seqLostAtRestart")                                                           \
  X(LOST_BEFORE, "lostBefore")          /* delta: loss of counts ended by a restart */               \
  X(REWRITING, "rewriting")             /* the sending leg's continuity rewriter (continuity.ts) */  \
  X(OUT_SSRC, "outSsrc")                                                                             \
  X(SEQ_OFFSET, "seqOffset")                                                                         \
  X(TS_OFFSET, "tsOffset")                                                                           \
  X(LAST_OUT_SEQ, "lastOutSeq")                                                                      \
  X(LAST_OUT_TS, "lastOutTs")                                                                        \
  X(LAST_OUT_AGO, "lastOutAgoMs")       /* out: ms since lastOutSeq moved; -1 if it did not */       \
  X(ACCEPTED_AGO, "acceptedAgoMs")      /* out: ms since the last accepted packet; -1 if none */     \
  X(RX_PACKETS, "rxPackets")            /* deltas, zeroed by every take */                           \
  X(RX_BYTES, "rxBytes")                                                                             \
  X(TX_PACKETS, "txPackets")                                                                         \
  X(TX_BYTES, "txBytes")                                                                             \
  X(DROP_FLOOD, "dropFlood")                                                                         \
  X(DROP_MALFORMED, "dropMalformed")                                                                 \
  X(DROP_PAYLOAD_TYPE, "dropPayloadType")                                                            \
  X(DROP_SRTP_ERROR, "dropSrtpError")                                                                \
  X(SEND_ERRORS, "sendErrors")          /* counted on the sending leg */

#define FP_ENUM(name, text) FP_##name,
enum { FP_FIELDS(FP_ENUM) FP_FIELD_COUNT };
#undef FP_ENUM
#define FP_STATE_LENGTH (FP_FIELD_COUNT + 2 * FP_WINDOW_WORDS)

typedef struct {
  int64_t top; /* -1: none */
  uint32_t size;
  uint32_t words[FP_WINDOW_WORDS];
} fp_window;

/* A source or destination: IPv4 or IPv6 (28 octets, not sockaddr_storage's 128: the rule stays in few cache lines). */
typedef union {
  struct sockaddr sa;
  struct sockaddr_in v4;
  struct sockaddr_in6 v6;
} fp_addr;

/* Ordered by use: what every packet reads first, then what a relayed one changes, the windows last. */
typedef struct fp_rule {
  double tokens, rate, refilled_at;
  /* What a packet must match: arrived on the RTP socket, from `source`, version 2, of `ssrc`. */
  uint32_t ssrc;
  uint32_t rtp_id, rtcp_id, tx_id, tx_gen;
  /* The pending batch (udpio.c) into which a packet of this rule went for JavaScript: later ones follow it there, in order. */
  uint32_t deferred_batch;
  /* SRTP of each side, NULL for plain RTP. */
  cg_session_head *in, *out;
  fp_addr source;
  uint32_t in_tag, out_tag;
  /* Continuity rewriter of the sending leg (continuity.ts). */
  uint32_t out_ssrc, seq_offset, ts_offset, last_out_seq, last_out_ts;
  bool rewriting;
  /* RFC 3550 §A.1 tracker of the source (sequence.ts). */
  uint32_t base_seq, max_seq;
  int32_t bad_seq;
  double cycles, received, lost_at_restart;
  double last_out_at, accepted_at; /* monotonic ms; -1: not since the last take */
  double deltas[FP_SEND_ERRORS - FP_RX_PACKETS + 1];
  double lost_before;
  fp_addr dest;
  socklen_t dest_len;
  uint8_t pmap[128];
  fp_window win_in, win_out;
  /* Keep the JS session objects alive while the rule uses them. */
  napi_ref in_ref, out_ref;
} fp_rule;

typedef struct {
  int fd;
  int family;
  uint32_t gen; /* counts the opens of this id, so a rule never sends from a socket reopened under it */
  struct sockaddr_storage target;
  socklen_t target_len;
  fp_rule *rule; /* the rule whose RTP or RTCP port this is */
} fp_sock;

/* What fp_receive decided. */
typedef enum { FP_TO_JS, FP_DONE } fp_verdict;

/*
 * One datagram on socket `id` (which has a rule): FP_DONE when the fast path relayed or dropped it
 * (counted), FP_TO_JS when JavaScript must handle it (its token was taken here).
 * `buf` has `room` octets (a slot); it may be changed only when FP_DONE is returned.
 */
fp_verdict fp_receive(fp_sock *socks, uint32_t id, uint8_t *buf, size_t length, size_t room, const struct sockaddr_storage *from, double now_ms,
                      uint32_t batch);

/* Frees a rule: detaches it from its sockets, lets go of the sessions. */
void fp_free(napi_env env, fp_sock *socks, uint32_t cap, fp_rule *r);

/* Writes `r`'s state into `state` (FP_STATE_LENGTH doubles) as of `now_ms` and zeroes its deltas. */
void fp_save(fp_rule *r, double *state, double now_ms);
/* A rule from `state` (FP_STATE_LENGTH doubles), its clocks started at `now_ms`; NULL when out of memory. */
fp_rule *fp_load(const double *state, double now_ms);

const char *const *fp_field_names(void);

#endif
