/**
 * The backup container (gateway/ops/backup-format.ts): scrypt/HKDF key derivation, the key check,
 * and chunked AES-256-GCM whose nonce carries the chunk index and the final flag.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  ChunkOpener, ChunkSealer, HEADER_LENGTH, MIN_SCRYPT_LOG2N, newHeader, openHeader, TAG_LENGTH, type BackupSecret,
} from '../../gateway/ops/backup-format';
import { BackupCorruptError, BackupFormatError, BackupKeyError } from '../../gateway/ops/errors';
import { passphraseSecret } from '../../gateway/ops/backup-secret';
import { TEST_SCRYPT } from './helpers';

const CHUNK = 4096;

async function seal(secret: BackupSecret, plain: Buffer): Promise<Buffer> {
  const { header, key } = await newHeader(secret, TEST_SCRYPT, CHUNK);
  const sealer = new ChunkSealer(header, key);
  // Uneven pushes: chunk boundaries must not depend on how the writer slices its input.
  const out = [header.bytes];
  for (let i = 0; i < plain.length; i += 1000) out.push(...sealer.push(plain.subarray(i, i + 1000)));
  out.push(sealer.finish());
  return Buffer.concat(out);
}

async function open(secret: BackupSecret, file: Buffer): Promise<Buffer> {
  const { header, key } = await openHeader(file.subarray(0, HEADER_LENGTH), secret);
  const opener = new ChunkOpener(header, key);
  const out: Buffer[] = [];
  for (let i = HEADER_LENGTH; i < file.length; i += 777) out.push(...opener.push(file.subarray(i, i + 777)));
  out.push(opener.finish());
  return Buffer.concat(out);
}

describe('backup container (STREAM: chunked AES-256-GCM, scrypt / key file)', function () {
  this.timeout(30_000);
  const pass = passphraseSecret('correct horse battery staple');
  const keyFile: BackupSecret = { kind: 'key-file', key: randomBytes(32) };
  const plain = randomBytes(3 * CHUNK + 123);
  let sealed: Buffer;
  before(async () => { sealed = await seal(pass, plain); });

  it('it MUST round-trip with a passphrase and with a key file, whatever the chunking', async () => {
    assert.ok((await open(pass, sealed)).equals(plain));
    assert.ok((await open(keyFile, await seal(keyFile, plain))).equals(plain));
    assert.ok((await open(pass, await seal(pass, Buffer.alloc(0)))).equals(Buffer.alloc(0)), 'empty input');
    const exact = randomBytes(2 * CHUNK);
    assert.ok((await open(pass, await seal(pass, exact))).equals(exact), 'a multiple of the chunk size');
  });

  it('it MUST record the scrypt parameters in the header (N >= 2^15, r = 8, p = 1)', () => {
    assert.equal(sealed[10], TEST_SCRYPT.log2N);
    assert.ok(sealed[10]! >= MIN_SCRYPT_LOG2N);
    assert.equal(sealed[11], 8);
    assert.equal(sealed[12], 1);
  });

  it('it MUST refuse a wrong passphrase or key file with BackupKeyError', async () => {
    await assert.rejects(open(passphraseSecret('correct horse battery stapler'), sealed), BackupKeyError);
    await assert.rejects(open(keyFile, sealed), /encrypted with a passphrase/);
    await assert.rejects(open({ kind: 'key-file', key: randomBytes(32) }, await seal(keyFile, plain)), BackupKeyError);
  });

  it('it MUST detect a flipped byte in any chunk, tag or header field', async () => {
    for (const at of [HEADER_LENGTH + 5, HEADER_LENGTH + CHUNK + TAG_LENGTH + 9, sealed.length - 1]) {
      const bad = Buffer.from(sealed);
      bad[at]! ^= 0x01;
      await assert.rejects(open(pass, bad), BackupCorruptError, `byte ${at}`);
    }
    const header = Buffer.from(sealed);
    header[30]! ^= 0x01; // salt: a different key, and the key check fails
    await assert.rejects(open(pass, header), BackupKeyError);
  });

  it('it MUST detect truncation at a chunk boundary, mid-chunk, and appended bytes', async () => {
    const boundary = HEADER_LENGTH + 2 * (CHUNK + TAG_LENGTH);
    await assert.rejects(open(pass, sealed.subarray(0, boundary)), BackupCorruptError);
    await assert.rejects(open(pass, sealed.subarray(0, boundary - 100)), BackupCorruptError);
    await assert.rejects(open(pass, sealed.subarray(0, HEADER_LENGTH + 3)), BackupCorruptError);
    await assert.rejects(open(pass, Buffer.concat([sealed, Buffer.from([0])])), BackupCorruptError);
  });

  it('it MUST detect reordered or duplicated chunks (the index is in the nonce)', async () => {
    const size = CHUNK + TAG_LENGTH;
    const c = (i: number): Buffer => sealed.subarray(HEADER_LENGTH + i * size, HEADER_LENGTH + (i + 1) * size);
    const tail = sealed.subarray(HEADER_LENGTH + 3 * size);
    const swapped = Buffer.concat([sealed.subarray(0, HEADER_LENGTH), c(1), c(0), c(2), tail]);
    await assert.rejects(open(pass, swapped), BackupCorruptError);
    const duplicated = Buffer.concat([sealed.subarray(0, HEADER_LENGTH), c(0), c(0), c(1), c(2), tail]);
    await assert.rejects(open(pass, duplicated), BackupCorruptError);
  });

  it('it MUST refuse, before running scrypt, a header demanding absurd parameters', async () => {
    const forged = Buffer.from(sealed.subarray(0, HEADER_LENGTH));
    forged[10] = 30; // N = 2^30: 128 GiB
    await assert.rejects(openHeader(forged, pass), BackupFormatError);
    const magic = Buffer.from(forged);
    magic[1] = 0x00;
    await assert.rejects(openHeader(magic, pass), /not a Ciphergate backup/);
    const version = Buffer.from(sealed.subarray(0, HEADER_LENGTH));
    version[8] = 9;
    await assert.rejects(openHeader(version, pass), /format version 9/);
  });
});
