/**
 * The backup container: a fixed header, then the archive encrypted with AES-256-GCM in chunks.
 *
 * Why chunks (the STREAM construction of Hoang, Reyhanitabar, Rogaway and Vizár, 2015, as used by
 * age and Tink) rather than one GCM over the whole archive: a backup grows with the message store
 * and CDRs, and one GCM message must be held entirely before its tag can be checked, or plaintext
 * is released unauthenticated. Each chunk here is authenticated before a byte of it is used, and
 * memory stays at one chunk whatever the size.
 *
 * Header (HEADER_LENGTH bytes, big-endian):
 *   0  8  magic 89 'C' 'G' 'B' 'K' 0D 0A 1A (a text-mode transfer that mangles bytes is detected)
 *   8  1  format version (1)
 *   9  1  key source: 1 = passphrase (scrypt), 2 = key file (32 bytes)
 *  10  1  scrypt log2(N)   11 1 scrypt r   12 1 scrypt p   (0 for a key file)
 *  13  3  reserved, zero
 *  16  4  plaintext bytes per chunk
 *  20 32  salt (random per backup)
 *  52  7  nonce prefix (random per backup)
 *  59  1  reserved, zero
 *  60 32  key check: HMAC-SHA256(check key, bytes 0..59)
 * Keys: IKM = scrypt(passphrase, salt, N, r, p) or the key file's 32 bytes; the encryption key and
 * the check key are HKDF-SHA256(IKM, salt, label) (RFC 5869) with distinct labels. The key check
 * tells a wrong passphrase apart from a damaged file and also authenticates the header.
 *
 * Chunk i: ciphertext || 16-byte tag, every chunk but the last exactly `chunkSize` plaintext bytes.
 * Nonce = prefix(7) || i (4 bytes) || final flag (1 byte); AAD = the header. A chunk moved,
 * dropped, duplicated or taken from another backup fails authentication; a file cut at a chunk
 * boundary ends in a chunk sealed as non-final, and one with bytes appended turns the real final
 * chunk into a non-final one: both fail.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { BackupCorruptError, BackupFormatError, BackupKeyError } from './errors';

export const BACKUP_MAGIC = Buffer.from([0x89, 0x43, 0x47, 0x42, 0x4b, 0x0d, 0x0a, 0x1a]);
export const BACKUP_FORMAT_VERSION = 1;
export const HEADER_LENGTH = 92;
export const TAG_LENGTH = 16;
export const DEFAULT_CHUNK_SIZE = 64 * 1024;
export const BACKUP_KEY_LENGTH = 32;

/** scrypt cost (RFC 7914): memory is 128 * N * r bytes (2^17, 8 → 128 MiB). */
export interface ScryptParams {
  readonly log2N: number;
  readonly r: number;
  readonly p: number;
}

/** OWASP's current recommendation (N = 2^17, r = 8, p = 1): about 0.3 s and 128 MiB here. */
export const DEFAULT_SCRYPT: ScryptParams = { log2N: 17, r: 8, p: 1 };
/** The floor (N = 2^15); also the cheapest a header may ask for. */
export const MIN_SCRYPT_LOG2N = 15;
/** Bounds on what a header may demand, so a forged header cannot make restore eat the machine. */
const MAX_SCRYPT_LOG2N = 20;
const MAX_SCRYPT_MEMORY = 1024 * 1024 * 1024;
const MIN_CHUNK = 4 * 1024;
const MAX_CHUNK = 16 * 1024 * 1024;
const MAX_CHUNKS = 0xffffffff;

const LABEL_ENCRYPT = 'ciphergate backup v1 encrypt';
const LABEL_CHECK = 'ciphergate backup v1 key-check';
const KEY_SOURCE_PASSPHRASE = 1;
const KEY_SOURCE_FILE = 2;

/** What opens a backup: a passphrase (UTF-8, NFC) or the 32 bytes of a key file. */
export type BackupSecret =
  | { readonly kind: 'passphrase'; readonly passphrase: Buffer }
  | { readonly kind: 'key-file'; readonly key: Buffer };

export interface BackupHeader {
  readonly bytes: Buffer;
  readonly keySource: 'passphrase' | 'key-file';
  readonly scrypt?: ScryptParams;
  readonly chunkSize: number;
  readonly salt: Buffer;
  readonly noncePrefix: Buffer;
}

/** A new header for `secret`; returns it with the derived encryption key. */
export async function newHeader(secret: BackupSecret, params: ScryptParams = DEFAULT_SCRYPT, chunkSize = DEFAULT_CHUNK_SIZE): Promise<{ header: BackupHeader; key: Buffer }> {
  checkScrypt(params);
  const bytes = Buffer.alloc(HEADER_LENGTH);
  BACKUP_MAGIC.copy(bytes, 0);
  bytes[8] = BACKUP_FORMAT_VERSION;
  bytes[9] = secret.kind === 'passphrase' ? KEY_SOURCE_PASSPHRASE : KEY_SOURCE_FILE;
  if (secret.kind === 'passphrase') {
    bytes[10] = params.log2N;
    bytes[11] = params.r;
    bytes[12] = params.p;
  }
  bytes.writeUInt32BE(chunkSize, 16);
  randomBytes(32).copy(bytes, 20);
  randomBytes(7).copy(bytes, 52);
  const header = parseHeaderFields(bytes);
  const { encrypt, check } = await deriveKeys(secret, header);
  createHmac('sha256', check).update(bytes.subarray(0, 60)).digest().copy(bytes, 60);
  check.fill(0);
  return { header, key: encrypt };
}

/** Parses and bounds-checks a header, derives the keys and verifies the key check. */
export async function openHeader(bytes: Buffer, secret: BackupSecret): Promise<{ header: BackupHeader; key: Buffer }> {
  if (bytes.length < HEADER_LENGTH || !bytes.subarray(0, 8).equals(BACKUP_MAGIC)) {
    throw new BackupFormatError('not a Ciphergate backup (bad magic number)');
  }
  if (bytes[8] !== BACKUP_FORMAT_VERSION) {
    throw new BackupFormatError(`backup format version ${bytes[8]} is not supported by this Ciphergate (it reads version ${BACKUP_FORMAT_VERSION})`);
  }
  const header = parseHeaderFields(Buffer.from(bytes.subarray(0, HEADER_LENGTH)));
  if (header.keySource !== secret.kind) {
    throw new BackupKeyError(header.keySource === 'passphrase'
      ? 'this backup is encrypted with a passphrase, not a key file'
      : 'this backup is encrypted with a key file (--key-file), not a passphrase');
  }
  const { encrypt, check } = await deriveKeys(secret, header);
  const expected = createHmac('sha256', check).update(header.bytes.subarray(0, 60)).digest();
  check.fill(0);
  if (!timingSafeEqual(expected, header.bytes.subarray(60, 92))) {
    encrypt.fill(0);
    throw new BackupKeyError(secret.kind === 'passphrase'
      ? 'wrong passphrase for this backup (or its header is damaged)'
      : 'wrong key file for this backup (or its header is damaged)');
  }
  return { header, key: encrypt };
}

function parseHeaderFields(bytes: Buffer): BackupHeader {
  const source = bytes[9];
  if (source !== KEY_SOURCE_PASSPHRASE && source !== KEY_SOURCE_FILE) throw new BackupFormatError(`unknown key source ${source}`);
  if (bytes[13] !== 0 || bytes[14] !== 0 || bytes[15] !== 0 || bytes[59] !== 0) throw new BackupFormatError('reserved header bytes are not zero');
  const chunkSize = bytes.readUInt32BE(16);
  if (chunkSize < MIN_CHUNK || chunkSize > MAX_CHUNK) throw new BackupFormatError(`chunk size ${chunkSize} is out of range`);
  const scryptParams = source === KEY_SOURCE_PASSPHRASE ? { log2N: bytes[10]!, r: bytes[11]!, p: bytes[12]! } : undefined;
  if (scryptParams !== undefined) checkScrypt(scryptParams);
  return {
    bytes,
    keySource: source === KEY_SOURCE_PASSPHRASE ? 'passphrase' : 'key-file',
    ...(scryptParams !== undefined && { scrypt: scryptParams }),
    chunkSize,
    salt: bytes.subarray(20, 52),
    noncePrefix: bytes.subarray(52, 59),
  };
}

function checkScrypt(p: ScryptParams): void {
  const memory = 128 * 2 ** p.log2N * p.r;
  if (!Number.isInteger(p.log2N) || p.log2N < MIN_SCRYPT_LOG2N || p.log2N > MAX_SCRYPT_LOG2N ||
    !Number.isInteger(p.r) || p.r < 1 || p.r > 32 || !Number.isInteger(p.p) || p.p < 1 || p.p > 16 || memory > MAX_SCRYPT_MEMORY) {
    throw new BackupFormatError(`scrypt parameters out of range (log2 N ${p.log2N}, r ${p.r}, p ${p.p})`);
  }
}

async function deriveKeys(secret: BackupSecret, header: BackupHeader): Promise<{ encrypt: Buffer; check: Buffer }> {
  let ikm: Buffer;
  if (secret.kind === 'passphrase') {
    const s = header.scrypt!;
    const N = 2 ** s.log2N;
    ikm = await new Promise<Buffer>((resolve, reject) => {
      scrypt(secret.passphrase, header.salt, 32, { N, r: s.r, p: s.p, maxmem: 128 * N * s.r + 16 * 1024 * 1024 },
        (err, key) => (err ? reject(err) : resolve(key)));
    });
  } else {
    if (secret.key.length !== BACKUP_KEY_LENGTH) throw new BackupKeyError(`a backup key is ${BACKUP_KEY_LENGTH} bytes`);
    ikm = Buffer.from(secret.key);
  }
  const encrypt = Buffer.from(hkdfSync('sha256', ikm, header.salt, LABEL_ENCRYPT, 32));
  const check = Buffer.from(hkdfSync('sha256', ikm, header.salt, LABEL_CHECK, 32));
  ikm.fill(0);
  return { encrypt, check };
}

function nonce(header: BackupHeader, index: number, final: boolean): Buffer {
  if (index > MAX_CHUNKS) throw new BackupCorruptError('too many chunks');
  const n = Buffer.alloc(12);
  header.noncePrefix.copy(n, 0);
  n.writeUInt32BE(index, 7);
  n[11] = final ? 1 : 0;
  return n;
}

/** Encrypts a byte stream into chunks. push() returns sealed bytes to write; finish() the last. */
export class ChunkSealer {
  private pending = Buffer.alloc(0);
  private index = 0;

  constructor(private readonly header: BackupHeader, private readonly key: Buffer) {}

  push(data: Buffer): Buffer[] {
    const all = Buffer.concat([this.pending, data]);
    this.pending.fill(0);
    const size = this.header.chunkSize;
    const out: Buffer[] = [];
    let offset = 0;
    // Strictly more than one chunk left: the chunk taken now is certainly not the last.
    while (all.length - offset > size) {
      out.push(this.seal(all.subarray(offset, offset + size), false));
      offset += size;
    }
    this.pending = Buffer.from(all.subarray(offset));
    all.fill(0);
    return out;
  }

  finish(): Buffer {
    const sealed = this.seal(this.pending, true);
    this.pending.fill(0);
    this.pending = Buffer.alloc(0);
    this.key.fill(0);
    return sealed;
  }

  private seal(plain: Buffer, final: boolean): Buffer {
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce(this.header, this.index++, final), { authTagLength: TAG_LENGTH });
    cipher.setAAD(this.header.bytes);
    return Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  }
}

/**
 * Decrypts chunks. push() returns plaintext only of chunks whose tag verified; finish() checks
 * that the stream ended with a final chunk and returns its plaintext.
 */
export class ChunkOpener {
  private pending = Buffer.alloc(0);
  private index = 0;

  constructor(private readonly header: BackupHeader, private readonly key: Buffer) {}

  push(data: Buffer): Buffer[] {
    this.pending = this.pending.length === 0 ? Buffer.from(data) : Buffer.concat([this.pending, data]);
    const sealedChunk = this.header.chunkSize + TAG_LENGTH;
    const out: Buffer[] = [];
    while (this.pending.length > sealedChunk) {
      out.push(this.open(this.pending.subarray(0, sealedChunk), false));
      this.pending = this.pending.subarray(sealedChunk);
    }
    return out;
  }

  finish(): Buffer {
    if (this.pending.length < TAG_LENGTH) throw new BackupCorruptError('the backup is truncated (its final chunk is missing)');
    const plain = this.open(this.pending, true);
    this.pending = Buffer.alloc(0);
    this.key.fill(0);
    return plain;
  }

  private open(sealed: Buffer, final: boolean): Buffer {
    const index = this.index++;
    const body = sealed.subarray(0, sealed.length - TAG_LENGTH);
    const decipher = createDecipheriv('aes-256-gcm', this.key, nonce(this.header, index, final), { authTagLength: TAG_LENGTH });
    decipher.setAAD(this.header.bytes);
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_LENGTH));
    const plain = decipher.update(body);
    try {
      decipher.final();
    } catch {
      plain.fill(0);
      throw new BackupCorruptError(final
        ? `the backup is damaged or truncated: chunk ${index} (the last) does not authenticate`
        : `the backup is damaged: chunk ${index} does not authenticate`);
    }
    return plain;
  }
}
