/**
 * Secrets at rest: AES-256-GCM (NIST SP 800-38D) under a per-purpose subkey of the master key.
 *
 * Layout of a sealed value:  version (1 byte) | IV (12 bytes) | ciphertext | tag (16 bytes)
 *
 * - The IV is 96 random bits per value (SP 800-38D §8.2.2); with at most a few values written per
 *   user and password change, the 2^32-invocation bound is out of reach.
 * - The additional authenticated data binds the value to its record: the version byte, the
 *   purpose label and the identity parts (e.g. user name, realm, algorithm), each length-prefixed
 *   so no two different identities encode alike. A ciphertext copied into another user's row,
 *   or from the HA1 column into the OTP column, fails to open.
 * - Without the master key nothing opens: the subkey exists only in memory.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { SealedValueError } from './errors';
import { KEY_LABELS, type KeyPurpose, type MasterKey } from './keys';

export const SEALED_VERSION = 1;
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const HEADER_LENGTH = 1 + IV_LENGTH;
/** Identity parts are short names; this bound keeps the AAD encoding unambiguous (u16 lengths). */
const MAX_PART_BYTES = 0xffff;

/** Seals and opens values of one purpose. */
export class Sealer {
  readonly #key: Buffer;
  readonly #label: string;

  constructor(masterKey: MasterKey, readonly purpose: KeyPurpose) {
    this.#key = masterKey.derive(purpose);
    this.#label = KEY_LABELS[purpose];
  }

  seal(identity: readonly string[], plaintext: Uint8Array): Buffer {
    const iv = randomBytes(IV_LENGTH);
    const version = Buffer.of(SEALED_VERSION);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_LENGTH });
    cipher.setAAD(this.aad(identity));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([version, iv, body, cipher.getAuthTag()]);
  }

  /** Throws SealedValueError unless the value was sealed by this key for exactly this identity. */
  open(identity: readonly string[], sealed: Uint8Array): Buffer {
    if (sealed.length < HEADER_LENGTH + TAG_LENGTH) {
      throw new SealedValueError(`a sealed ${this.purpose} value is too short to be valid`);
    }
    if (sealed[0] !== SEALED_VERSION) {
      throw new SealedValueError(`a sealed ${this.purpose} value has unknown format version ${sealed[0]}`);
    }
    const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.length);
    const iv = bytes.subarray(1, HEADER_LENGTH);
    const tag = bytes.subarray(bytes.length - TAG_LENGTH);
    const decipher = createDecipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_LENGTH });
    decipher.setAAD(this.aad(identity));
    decipher.setAuthTag(tag);
    const plain = decipher.update(bytes.subarray(HEADER_LENGTH, bytes.length - TAG_LENGTH));
    try {
      decipher.final();
    } catch {
      plain.fill(0);
      throw new SealedValueError(
        `a sealed ${this.purpose} value does not authenticate: it was sealed under another master key ` +
          'or for another record, or it was modified',
      );
    }
    return plain;
  }

  /** Overwrites the subkey in memory. */
  dispose(): void {
    this.#key.fill(0);
  }

  private aad(identity: readonly string[]): Buffer {
    const parts: Buffer[] = [Buffer.of(SEALED_VERSION)];
    for (const part of [this.#label, ...identity]) {
      const bytes = Buffer.from(part, 'utf8');
      if (bytes.length > MAX_PART_BYTES) throw new SealedValueError('a sealed value identity part is too long');
      const length = Buffer.alloc(2);
      length.writeUInt16BE(bytes.length);
      parts.push(length, bytes);
    }
    return Buffer.concat(parts);
  }
}
