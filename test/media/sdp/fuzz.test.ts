/**
 * Bounded fuzz: mutated real offers and a=crypto lines MUST yield a result or SdpError/SdesError,
 * never another exception, never key text in an error, and whatever parses MUST write back to
 * something that parses again. Inputs come from a seeded generator (reproducible failures);
 * nothing here is a key.
 */
import assert from 'node:assert/strict';
import { parseSdp, writeSdp, cryptoAttributeValues, parseCryptoAttribute, answer, SdpError, SdesError, SdesKeyRing } from '../../../media/sdp';
import * as F from './fixtures';

/** xorshift32: deterministic test input, not randomness for anything secret. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

const ALPHABET = 'v=o=s=c=t=m=a=: /|;^0123456789AZaz_-+=\r\n\t\u0000\u00e9INIP4IP6RTP/SAVPcrypto:inline:';

function mutate(text: string, r: () => number): string {
  let s = text;
  const edits = 1 + Math.floor(r() * 4);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(r() * (s.length + 1));
    const op = Math.floor(r() * 5);
    if (op === 0) s = s.slice(0, at) + s.slice(at + 1 + Math.floor(r() * 8));
    else if (op === 1) s = s.slice(0, at) + ALPHABET[Math.floor(r() * ALPHABET.length)] + s.slice(at);
    else if (op === 2) {
      const lines = s.split('\r\n');
      const i = Math.floor(r() * lines.length);
      lines.splice(Math.floor(r() * lines.length), 0, lines[i]!);
      s = lines.join('\r\n');
    } else if (op === 3) {
      const lines = s.split('\r\n');
      const i = Math.floor(r() * lines.length);
      const j = Math.floor(r() * lines.length);
      [lines[i], lines[j]] = [lines[j]!, lines[i]!];
      s = lines.join('\r\n');
    } else s = s.slice(0, at);
  }
  return s;
}

describe('bounded fuzz of SDP and SDES parsing', () => {
  const samples = Object.values(F);

  it('mutated offers MUST parse, or fail with SdpError only; parsed ones MUST round-trip', () => {
    const r = rng(0x5d9);
    const deadline = Date.now() + 8000;
    let parsed = 0;
    for (let i = 0; i < 3000 && Date.now() < deadline; i++) {
      const input = mutate(samples[i % samples.length]!, r);
      let p;
      try {
        p = parseSdp(input);
      } catch (e) {
        assert.ok(e instanceof SdpError, `iteration ${i}: ${String(e)}`);
        assert.ok(e.status === 400 || e.status === 488);
        continue;
      }
      parsed++;
      const again = parseSdp(writeSdp(p));
      assert.equal(again.media.length, p.media.length, `iteration ${i}`);
    }
    assert.ok(parsed > 100, `enough mutants stayed valid to exercise write-back (${parsed})`);
  });

  it('mutated a=crypto lines MUST parse or fail with SdesError, never showing the key', () => {
    const r = rng(0xc0ffee);
    const ring = new SdesKeyRing();
    const lines = samples.flatMap((s) => {
      const p = parseSdp(s);
      return p.media.flatMap((_, i) => cryptoAttributeValues(p, i));
    });
    assert.ok(lines.length >= 8);
    const deadline = Date.now() + 8000;
    for (let i = 0; i < 3000 && Date.now() < deadline; i++) {
      const original = lines[i % lines.length]!;
      const key = original.split('inline:')[1]?.slice(0, 16) ?? '\u0000';
      const input = mutate(original, r);
      for (const run of [() => parseCryptoAttribute(input), () => answer([input, mutate(original, r)], undefined, { keyRing: ring })]) {
        try {
          run();
        } catch (e) {
          assert.ok(e instanceof SdesError, `iteration ${i}: ${String(e)}`);
          assert.ok(!e.message.includes(key), 'no key text in errors');
        }
      }
    }
  });
});
