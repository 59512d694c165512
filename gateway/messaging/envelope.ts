/**
 * A stored message at rest: everything needed to deliver it later, sealed with AES-256-GCM under
 * the messages subkey of the master key (HKDF label "ciphergate messages v1", store/keys.ts).
 *
 * The additional authenticated data binds the ciphertext to its message id and its recipient
 * (store/sealed.ts encodes them length-prefixed): a sealed value copied into another row, or
 * re-addressed to another user in the database, fails to open instead of being delivered.
 *
 * Plaintext layout (version 1), before sealing:
 *   version (1) | u16 len | sender | u16 len | sender display name | u16 len | target URI |
 *   u16 len | Content-Type | body (the rest)
 * Only the recipient, sizes and times stay in clear columns: who sent it, to which group URI, what
 * type and what text are all inside.
 */
import type { MasterKey } from '../store/keys';
import { Sealer } from '../store/sealed';
import { EnvelopeFormatError } from './errors';

const ENVELOPE_VERSION = 1;
const MAX_FIELD = 0xffff;

export interface Envelope {
  /** Account name of the sender (authenticated). */
  readonly sender: string;
  /** The sender account's display name at sending time ('' when none). */
  readonly senderDisplay: string;
  /** The URI the sender addressed: the recipient's AOR, or the group's URI. */
  readonly target: string;
  readonly contentType: string;
  readonly body: Buffer;
}

export function encodeEnvelope(e: Envelope): Buffer {
  const fields = [e.sender, e.senderDisplay, e.target, e.contentType].map((f) => Buffer.from(f, 'utf8'));
  let size = 1 + e.body.length;
  for (const f of fields) {
    if (f.length > MAX_FIELD) throw new EnvelopeFormatError('an envelope field is longer than 65535 bytes');
    size += 2 + f.length;
  }
  const out = Buffer.allocUnsafe(size);
  let o = out.writeUInt8(ENVELOPE_VERSION, 0);
  for (const f of fields) {
    o = out.writeUInt16BE(f.length, o);
    o += f.copy(out, o);
  }
  e.body.copy(out, o);
  return out;
}

export function decodeEnvelope(b: Buffer): Envelope {
  if (b.length < 1 || b[0] !== ENVELOPE_VERSION) throw new EnvelopeFormatError('unknown stored message format');
  let o = 1;
  const field = (): string => {
    if (o + 2 > b.length) throw new EnvelopeFormatError('stored message truncated');
    const n = b.readUInt16BE(o);
    o += 2;
    if (o + n > b.length) throw new EnvelopeFormatError('stored message truncated');
    const s = b.toString('utf8', o, o + n);
    o += n;
    return s;
  };
  const sender = field();
  const senderDisplay = field();
  const target = field();
  const contentType = field();
  return { sender, senderDisplay, target, contentType, body: Buffer.from(b.subarray(o)) };
}

/** Seals and opens envelopes; one per service, holding the derived key. */
export class EnvelopeSealer {
  private readonly sealer: Sealer;

  constructor(masterKey: MasterKey) {
    this.sealer = new Sealer(masterKey, 'messages');
  }

  /** The sealed bytes; the encoded plaintext is overwritten before returning. */
  seal(id: string, recipient: string, envelope: Envelope): Buffer {
    const plain = encodeEnvelope(envelope);
    try {
      return this.sealer.seal([id, recipient], plain);
    } finally {
      plain.fill(0);
    }
  }

  /** Throws SealedValueError when the value was not sealed for exactly (id, recipient) under this key. */
  open(id: string, recipient: string, sealed: Uint8Array): Envelope {
    const plain = this.sealer.open([id, recipient], sealed);
    try {
      return decodeEnvelope(plain);
    } finally {
      plain.fill(0);
    }
  }

  dispose(): void {
    this.sealer.dispose();
  }
}
