/**
 * SRTP contexts of a leg from the keys the engine sends (media/relay/protocol.ts SrtpKeyWire). A
 * context is rebuilt only for a new key generation: rebuilding it for the same key would reset its
 * replay window and rollover counter (RFC 3711 §3.3.1, §3.3.2), letting old packets be replayed.
 */
import { SrtpContext } from '../srtp';
import type { SrtpKeyWire } from './protocol';

/** The context for `wire`, rebuilt only when its generation changed (keeping ROC and replay state). */
export function rekey(ctx: SrtpContext | undefined, generation: number, wire: SrtpKeyWire | undefined): [SrtpContext | undefined, number] {
  if (wire === undefined) {
    ctx?.close();
    return [undefined, -1];
  }
  if (ctx !== undefined && wire.generation === generation) return [ctx, generation];
  ctx?.close();
  if (!wire.masterKey || !wire.masterSalt) return [undefined, -1];
  try {
    return [new SrtpContext({ profile: wire.profile, masterKey: wire.masterKey, masterSalt: wire.masterSalt }), wire.generation];
  } finally {
    wire.masterKey.fill(0); // the context holds derived keys; this copy is no longer needed
    wire.masterSalt.fill(0);
  }
}
