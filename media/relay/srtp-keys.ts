/**
 * SRTP contexts of a leg from the keys the engine sends (media/relay/protocol.ts SrtpKeyWire). A
 * context is rebuilt only for a new key generation: rebuilding it for the same key would reset its
 * replay window and rollover counter (RFC 3711 §3.3.1, §3.3.2), letting old packets be replayed.
 *
 * SRTCP tag of the *_32 suites: RFC 3711 §3.4 / §5.2 and RFC 4568 §6.2 keep an 80-bit SRTCP tag
 * (libsrtp does), libre/baresip sends a 32-bit one. The receiving context of a leg learns which
 * its peer uses (SrtpContextOptions.learnSrtcpTagLength) and the sending context follows it, so
 * SRTCP toward the leg is tagged the way the peer tags its own (80 bits until a 32-bit tag authenticated).
 */
import { SrtpContext } from '../srtp';
import type { SrtpKeyWire } from './protocol';

/**
 * The context for `wire`, rebuilt only when its generation changed (keeping ROC and replay state).
 * `direction`: 'receive' for the leg's own key (what it sends us), 'send' for ours toward it.
 */
export function rekey(
  ctx: SrtpContext | undefined,
  generation: number,
  wire: SrtpKeyWire | undefined,
  direction: 'receive' | 'send',
): [SrtpContext | undefined, number] {
  if (wire === undefined) {
    ctx?.close();
    return [undefined, -1];
  }
  // Whatever the outcome (kept, rebuilt, refused), the wire's key bytes are wiped: the context holds
  // derived keys, and a copy sent again for a generation already in use must not linger either.
  try {
    if (ctx !== undefined && wire.generation === generation) return [ctx, generation];
    ctx?.close();
    if (!wire.masterKey || !wire.masterSalt) return [undefined, -1];
    const context = new SrtpContext({
      profile: wire.profile,
      masterKey: wire.masterKey,
      masterSalt: wire.masterSalt,
      learnSrtcpTagLength: direction === 'receive',
      ...(wire.mki !== undefined && { mki: wire.mki }),
    });
    return [context, wire.generation];
  } finally {
    wire.masterKey?.fill(0);
    wire.masterSalt?.fill(0);
  }
}

/**
 * SRTCP sent to a leg uses the tag length the leg's own SRTCP was seen to use (a *_32 suite only;
 * for the other suites both contexts already agree and this is one comparison).
 */
export function followPeerSrtcpTag(incoming: SrtpContext, outgoing: SrtpContext): void {
  const length = incoming.srtcpTagLength;
  if (length !== outgoing.srtcpTagLength && outgoing.profile === incoming.profile) outgoing.setSrtcpTagLength(length);
}
