/**
 * SRTP packet index estimation (RFC 3711 §3.3.1 and Appendix A).
 *
 * The 48-bit index i = 2^16 * ROC + SEQ is never sent; the receiver guesses the ROC from the
 * highest index accepted so far (s_l and its ROC) as v ∈ {ROC-1, ROC, ROC+1}. The guess is only
 * committed (ROC and s_l updated) once the packet authenticated: see ReplayWindow.accept().
 */

/** 2^48 - 1: the last index a master key may protect (RFC 3711 §9.2). */
export const MAX_SRTP_INDEX = 0xffff_ffff_ffff;
/** 2^31 - 1: the last SRTCP index (RFC 3711 §3.4, §9.2). */
export const MAX_SRTCP_INDEX = 0x7fff_ffff;

/** The rollover counter of an index. */
export function rocOf(index: number): number {
  return Math.floor(index / 0x10000);
}

/**
 * The index of a packet carrying `seq`, given the highest index seen so far (`highest` < 0
 * means none: then ROC = 0 and s_l = seq, §3.3.1). May return a negative index (v = ROC - 1 with
 * ROC = 0: older than the stream's start) or one past MAX_SRTP_INDEX (ROC would wrap); the
 * caller rejects both.
 */
export function estimatePacketIndex(highest: number, seq: number): number {
  if (highest < 0) return seq;
  const roc = rocOf(highest);
  const sl = highest - roc * 0x10000;
  let v = roc;
  if (sl < 0x8000) {
    if (seq - sl > 0x8000) v = roc - 1;
  } else if (sl - 0x8000 > seq) {
    v = roc + 1;
  }
  return v * 0x10000 + seq;
}
