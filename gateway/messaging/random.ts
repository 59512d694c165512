/**
 * Random tokens for the MESSAGE path (Via branch, From tag, Call-ID, message ids) from a pool of
 * node:crypto bytes. Each token is still 128 (or 96) bits from the CSPRNG, never reused: the pool
 * only saves the per-call overhead of randomBytes (one call per 4 KiB instead of three per
 * message). RFC 3261 §8.1.1.7 (branch: unique, magic cookie first), §19.3 (tags: at least 32
 * random bits), §8.1.1.4 (Call-ID: globally unique).
 */
import { randomFillSync } from 'node:crypto';
import { BRANCH_MAGIC_COOKIE } from '../sip/message/types';

const POOL_BYTES = 4096;

export class RandomPool {
  private readonly pool = Buffer.alloc(POOL_BYTES);
  private offset = POOL_BYTES;

  /** `bytes` fresh random bytes as base64url (token characters only, RFC 3261 §25.1). */
  token(bytes: number): string {
    if (this.offset + bytes > POOL_BYTES) {
      randomFillSync(this.pool);
      this.offset = 0;
    }
    const s = this.pool.toString('base64url', this.offset, this.offset + bytes);
    // Used bytes are overwritten so a token can be derived from the pool only once.
    this.pool.fill(0, this.offset, this.offset + bytes);
    this.offset += bytes;
    return s;
  }

  branch(): string {
    return BRANCH_MAGIC_COOKIE + this.token(16);
  }

  tag(): string {
    return this.token(12);
  }

  callId(): string {
    return this.token(16);
  }
}
