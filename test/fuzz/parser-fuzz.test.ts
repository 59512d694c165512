/**
 * Bounded fuzzing of the SIP parser over the RFC 4475 corpus: byte mutations, splices,
 * truncations and duplications. Properties checked on every input:
 * - parseMessage returns a message or throws SipParseError (anything else is a bug);
 * - each call returns quickly (no hang, no super-linear path);
 * - what parses serializes and parses back to an equal message;
 * - an answerable error yields an error response without throwing.
 *
 * The PRNG is seeded (FUZZ_SEED) so a failure is reproducible; this is test input generation,
 * not security randomness, so node:crypto is not needed. Runs ~FUZZ_SECONDS (default 5, max 30).
 */
import { strict as assert } from 'node:assert';
import { isDeepStrictEqual } from 'node:util';
import { makeErrorResponse } from '../../gateway/sip/message/error-response';
import { SipParseError } from '../../gateway/sip/message/errors';
import { parseMessage } from '../../gateway/sip/message/parser';
import { serializeMessage } from '../../gateway/sip/message/serializer';
import { loadCorpus } from '../conformance/corpus';

const SECONDS = Math.min(30, Math.max(1, Number(process.env.FUZZ_SECONDS ?? 5) || 5));
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed4475) >>> 0;
/** A single parse must finish within this (generous for a loaded CI machine). */
const MAX_CALL_MS = 100;
const MAX_ITERATIONS = 5_000_000;

/** mulberry32: small, fast, seedable. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fragments that matter to the grammar: separators, quotes, escapes, line ends, numbers. */
const SPICE = [
  ',', ';', ':', '"', '\\', '<', '>', '%', '%0', '%zz', '@', '[', ']', '[::1]', '=', ' ', '\t', '\r\n', '\r\n ', '\n', '\r',
  '\u0000', 'SIP/2.0', 'sip:', 'tel:+1', 'Via: SIP/2.0/UDP h;branch=z9hG4bKf\r\n', 'Contact: *\r\n', 'l: 99\r\n',
  'Content-Length: 0\r\n', 'CSeq: 1 INVITE\r\n', '4294967296', '-1', '999999999999999999999', 'é', '\u00ff', '\r\n\r\n',
].map((s) => Buffer.from(s, 'utf8'));

function mutate(rand: () => number, corpus: Buffer[]): Buffer {
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
  let data = Buffer.from(pick(corpus));
  const rounds = 1 + Math.floor(rand() * 6);
  for (let r = 0; r < rounds; r++) {
    const at = Math.floor(rand() * (data.length + 1));
    switch (Math.floor(rand() * 8)) {
      case 0: // flip bytes
        for (let i = 0, n = 1 + Math.floor(rand() * 4); i < n && data.length > 0; i++) data[Math.floor(rand() * data.length)] = Math.floor(rand() * 256);
        break;
      case 1: // insert a grammar fragment
        data = Buffer.concat([data.subarray(0, at), pick(SPICE), data.subarray(at)]);
        break;
      case 2: // delete a range
        data = Buffer.concat([data.subarray(0, at), data.subarray(Math.min(data.length, at + 1 + Math.floor(rand() * 40)))]);
        break;
      case 3: // truncate
        data = data.subarray(0, at);
        break;
      case 4: { // splice another message in
        const other = pick(corpus);
        const from = Math.floor(rand() * other.length);
        data = Buffer.concat([data.subarray(0, at), other.subarray(from, from + Math.floor(rand() * 200)), data.subarray(at)]);
        break;
      }
      case 5: { // duplicate a line (repeated headers)
        const start = data.lastIndexOf('\r\n', at);
        const end = data.indexOf('\r\n', at);
        if (start >= 0 && end > start) data = Buffer.concat([data.subarray(0, end), data.subarray(start, end), data.subarray(end)]);
        break;
      }
      case 6: { // repeat a fragment many times (long values, long lists)
        const frag = data.subarray(at, at + 1 + Math.floor(rand() * 12));
        const times = 1 + Math.floor(rand() * 2000);
        data = Buffer.concat([data.subarray(0, at), Buffer.concat(Array.from({ length: times }, () => frag)), data.subarray(at)]);
        break;
      }
      default: // swap case of a byte (header names are case-insensitive, methods are not)
        if (data.length > 0) {
          const i = Math.floor(rand() * data.length);
          data[i] ^= 0x20;
        }
    }
  }
  return data.length > 70_000 ? data.subarray(0, 70_000) : data;
}

/** Milliseconds one parse of data takes, whatever its outcome. */
function timeParse(data: Buffer, stream: boolean): number {
  const t0 = process.hrtime.bigint();
  try {
    parseMessage(data, { stream });
  } catch {
    // timing only
  }
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** Limits that let a serialized message (quoting may lengthen values) parse back. */
const ROUND_TRIP = { maxMessageSize: 1 << 20, maxHeaderLineLength: 1 << 20, maxHeaders: 1 << 16, maxListValues: 1 << 16 };

function check(data: Buffer, stream: boolean): void {
  const t0 = process.hrtime.bigint();
  let msg;
  try {
    msg = parseMessage(data, { stream });
  } catch (e) {
    if (!(e instanceof SipParseError)) throw e;
    if (e.canRespond) assert.ok(makeErrorResponse(e, { toTag: 'fuzz' }) instanceof Buffer);
    else assert.equal(makeErrorResponse(e), undefined);
    return;
  } finally {
    // A GC pause or a busy machine can stall one call; a slow input is slow every time.
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (ms >= MAX_CALL_MS) {
      const best = Math.min(ms, timeParse(data, stream), timeParse(data, stream));
      assert.ok(best < MAX_CALL_MS, `parse took ${best.toFixed(1)} ms`);
    }
  }
  const again = parseMessage(serializeMessage(msg), { stream: true, limits: ROUND_TRIP });
  assert.ok(isDeepStrictEqual(again, msg), 'round trip changed the message');
}

describe('parser fuzzing (RFC 4475 corpus, seeded)', function () {
  this.timeout(SECONDS * 1000 + 30_000);

  it(`only ever returns a message or throws SipParseError, quickly (${SECONDS} s, seed ${SEED})`, () => {
    const corpus = loadCorpus().map((c) => c.data);
    const rand = prng(SEED);
    const deadline = Date.now() + SECONDS * 1000;
    let iterations = 0;
    while (Date.now() < deadline && iterations < MAX_ITERATIONS) {
      const data = mutate(rand, corpus);
      const stream = rand() < 0.3;
      try {
        check(data, stream);
      } catch (e) {
        const sample = data.subarray(0, 400).toString('latin1');
        throw new Error(`iteration ${iterations} (seed ${SEED}, stream ${stream}): ${(e as Error).stack}\ninput: ${JSON.stringify(sample)}`, { cause: e });
      }
      iterations++;
    }
    assert.ok(iterations > 100, `only ${iterations} iterations ran`);
  });
});
