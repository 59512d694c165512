/**
 * Symmetric RTP latching (RFC 4961 §3; RFC 3550 §8.2): media is sent back to the address a leg's
 * packets come from, learnt from the packets themselves, because the SDP address is often wrong
 * (NAT) and never authenticated.
 *
 * What may latch (see leg.ts for where this sits in the receive path):
 * - SRTP legs: only a packet that authenticated with the leg's key (RFC 3711 §3.3): anyone may be
 *   *tried*, but the address is learnt after authentication succeeded, never before.
 * - plain legs, policy 'sdp-host' (default): a well-formed packet from the host (IP) the leg's SDP
 *   c= line names, any port (NAT may change the port, rarely the address of a PBX). There is no
 *   proof of origin in plain RTP; the host check keeps off-path senders on other hosts out.
 * - plain legs, policy 'any-source': the first well-formed packet (clients behind NAT whose SDP
 *   shows a private address). Weaker: the first packet wins.
 * Once latched, only that address is accepted, until it has been silent for RELATCH_QUIET_MS; then
 * a new source may latch under the same rule (a mobile client moved), so a busy stream cannot be
 * hijacked by a faster sender.
 */
import type { Source } from './io/sockets';

/** How long a latched source must be silent before another may take its place. */
export const RELATCH_QUIET_MS = 2000;

export interface Latch {
  readonly address: string;
  readonly port: number;
  /** Last accepted packet from it. */
  at: number;
}

/** May a packet from `rinfo` be processed (before any latching decision)? */
export function admissible(latch: Latch | undefined, rinfo: Source, now: number, anyone: boolean, sdpHost: string | undefined): boolean {
  if (latch !== undefined) {
    if (latch.port === rinfo.port && latch.address === rinfo.address) return true;
    if (now - latch.at < RELATCH_QUIET_MS) return false;
  }
  return anyone || rinfo.address === sdpHost;
}

/** The latch after an accepted packet from `rinfo` (the same object, refreshed, when unchanged). */
export function latchOn(latch: Latch | undefined, rinfo: Source, now: number): Latch {
  if (latch !== undefined && latch.port === rinfo.port && latch.address === rinfo.address) {
    latch.at = now;
    return latch;
  }
  return { address: rinfo.address, port: rinfo.port, at: now };
}
