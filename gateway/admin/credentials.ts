/**
 * The cryptography of account secrets: digest HA1s sealed at rest, one-time passwords and their
 * verifiers. Keys come from the master key (gateway/store/keys.ts) and live only in memory.
 */
import { createHash, createHmac, randomInt } from 'node:crypto';
import { Sealer } from '../store/sealed';
import type { MasterKey } from '../store/keys';
import { HA1_ALGORITHMS, type Ha1Algorithm, type SealedHa1 } from '../store/types';

const NODE_HASH: Readonly<Record<Ha1Algorithm, string>> = {
  MD5: 'md5',
  'SHA-256': 'sha256',
  // RFC 8760 §2.1: SHA-512/256 proper (own IVs, FIPS 180-4 §5.3.6.2), not a truncated SHA-512.
  'SHA-512-256': 'sha512-256',
};

/** Upper case without 0/O and 1/I (read off a screen, typed on a phone): 32 symbols, 5 bits each. */
const OTP_ALPHABET = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ';
/** 16 symbols = 80 bits: far beyond online guessing within a 24 h lifetime. */
export const OTP_LENGTH = 16;
const OTP_GROUP = 4;
/** Longest input considered for an OTP; longer input cannot be one and is not processed. */
const OTP_INPUT_MAX = 64;

/** HA1 = H(username ":" realm ":" password) as raw bytes (RFC 7616 §3.4.2, RFC 3261 §22.4). */
export function computeHa1(algorithm: Ha1Algorithm, name: string, realm: string, password: string): Buffer {
  return createHash(NODE_HASH[algorithm]).update(`${name}:${realm}:${password}`, 'utf8').digest();
}

/** A fresh OTP for display, grouped for reading aloud: `ABCD-EFGH-JKLM-NPQR`. */
export function generateOtp(): string {
  let otp = '';
  for (let i = 0; i < OTP_LENGTH; i++) {
    if (i > 0 && i % OTP_GROUP === 0) otp += '-';
    otp += OTP_ALPHABET[randomInt(OTP_ALPHABET.length)];
  }
  return otp;
}

/** The canonical form an OTP is verified in: separators and case do not matter to the user. */
export function normalizeOtp(input: string): string {
  if (input.length > OTP_INPUT_MAX) return '';
  let out = '';
  for (const c of input) if (c !== '-' && c !== ' ') out += c.toUpperCase();
  return out;
}

export class Credentials {
  readonly #ha1Sealer: Sealer;
  readonly #otpKey: Buffer;

  constructor(masterKey: MasterKey) {
    this.#ha1Sealer = new Sealer(masterKey, 'ha1');
    this.#otpKey = masterKey.derive('otp');
  }

  /** HA1s of every supported hash for one password, sealed to (name, realm, algorithm). */
  sealHa1s(name: string, realm: string, password: string): SealedHa1[] {
    return HA1_ALGORITHMS.map((algorithm) => {
      const ha1 = computeHa1(algorithm, name, realm, password);
      const sealed = this.#ha1Sealer.seal(ha1Identity(name, realm, algorithm), ha1);
      ha1.fill(0);
      return { algorithm, realm, sealed };
    });
  }

  /** Throws SealedValueError when the value was not sealed for exactly this record. */
  openHa1(name: string, ha1: SealedHa1): Buffer {
    return this.#ha1Sealer.open(ha1Identity(name, ha1.realm, ha1.algorithm), ha1.sealed);
  }

  /**
   * The stored verifier of an OTP: HMAC-SHA256 under a master-derived key, bound to the user, of
   * the normalized OTP. A database thief without the master key cannot test guesses against it.
   */
  otpMac(name: string, otp: string): Buffer {
    return createHmac('sha256', this.#otpKey).update(`otp\0${name}\0${normalizeOtp(otp)}`, 'utf8').digest();
  }

  dispose(): void {
    this.#ha1Sealer.dispose();
    this.#otpKey.fill(0);
  }
}

function ha1Identity(name: string, realm: string, algorithm: Ha1Algorithm): string[] {
  return ['ha1', name, realm, algorithm];
}
