import assert from 'node:assert/strict';
import { FramingError, PONG, StreamFramer, type FramedUnit } from '../../../gateway/sip/transport/framer';
import { sipRequest } from './helpers';

const LIMITS = { maxHeaderBytes: 1024, maxMessageBytes: 4096 };

/** Renders units as comparable strings: messages in latin1, pings as PING, errors by reason. */
function render(units: FramedUnit[]): string[] {
  return units.map((u) =>
    u.kind === 'message' ? u.data.toString('latin1') : u.kind === 'ping' ? 'PING' : `ERROR:${u.error.reason}`,
  );
}

function feed(chunks: Buffer[], limits = LIMITS): { units: string[]; framer: StreamFramer } {
  const framer = new StreamFramer(limits);
  const units: string[] = [];
  for (const c of chunks) units.push(...render(framer.push(c)));
  return { units, framer };
}

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

/** A body with every byte value, including NUL, CR, LF and a CRLFCRLF that must not end anything. */
const BINARY_BODY = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), b('\r\n\r\nINVITE x\r\n\r\n')]);
const BINARY_MESSAGE = Buffer.concat([
  b(`MESSAGE sip:gw.test SIP/2.0\r\nContent-Type: application/octet-stream\r\nContent-Length: ${BINARY_BODY.length}\r\n\r\n`),
  BINARY_BODY,
]);

describe('RFC 3261 §18.3 stream framing by Content-Length', () => {
  it('frames one message arriving whole', () => {
    const msg = sipRequest('OPTIONS');
    assert.deepEqual(feed([b(msg)]).units, [msg]);
  });

  it('frames several messages arriving in one chunk', () => {
    const m1 = sipRequest('OPTIONS');
    const m2 = sipRequest('MESSAGE', 'hello');
    const m3 = sipRequest('BYE');
    assert.deepEqual(feed([b(m1 + m2 + m3)]).units, [m1, m2, m3]);
  });

  it('gives the same messages whatever offset the stream is split at (binary body included)', () => {
    const m1 = b(sipRequest('OPTIONS'));
    const stream = Buffer.concat([m1, BINARY_MESSAGE, b('\r\n\r\n'), m1]);
    const expected = [m1.toString('latin1'), BINARY_MESSAGE.toString('latin1'), 'PING', m1.toString('latin1')];
    for (let i = 0; i <= stream.length; i++) {
      const { units, framer } = feed([stream.subarray(0, i), stream.subarray(i)]);
      assert.deepEqual(units, expected, `split at ${i}`);
      assert.equal(framer.bufferedBytes, 0);
    }
  });

  it('gives the same messages when fed one byte at a time', () => {
    const stream = Buffer.concat([BINARY_MESSAGE, b('\r\n'), BINARY_MESSAGE]);
    const chunks = Array.from(stream, (byte) => Buffer.from([byte]));
    const out = feed(chunks).units;
    assert.deepEqual(out, [BINARY_MESSAGE.toString('latin1'), BINARY_MESSAGE.toString('latin1')]);
  });

  it('hands up copies that do not change when the framer reuses its buffer', () => {
    const framer = new StreamFramer(LIMITS);
    const [first] = framer.push(b(sipRequest('OPTIONS', 'aaaa')));
    framer.push(b(sipRequest('OPTIONS', 'bbbb')));
    assert.equal(first.kind, 'message');
    assert.ok(first.kind === 'message' && first.data.toString('latin1').endsWith('aaaa'));
  });

  describe('finding Content-Length by a linear scan', () => {
    const cases: Array<[string, string]> = [
      ['the compact form l', 'l: 3'],
      ['any letter case', 'CONTENT-LENGTH: 3'],
      ['whitespace before the colon (HCOLON)', 'Content-Length \t: 3'],
      ['a folded value (RFC 3261 §7.3.1)', 'Content-Length:\r\n  3'],
      ['a compact L in upper case', 'L:3'],
    ];
    for (const [what, header] of cases) {
      it(`accepts ${what}`, () => {
        const msg = `MESSAGE sip:gw.test SIP/2.0\r\nCall-ID: x\r\n${header}\r\n\r\nabc`;
        assert.deepEqual(feed([b(msg + msg)]).units, [msg, msg]);
      });
    }

    it('ignores look-alikes: the start-line, other header names and values, the body', () => {
      const msg =
        'MESSAGE sip:l:9@gw.test SIP/2.0\r\nX-Content-Length: 99\r\nSubject: Content-Length: 99\r\nll: 7\r\n' +
        'Content-Length: 17\r\n\r\nContent-Length: 1';
      assert.deepEqual(feed([b(msg)]).units, [msg]);
    });

    it('accepts Content-Length: 0', () => {
      const msg = 'OPTIONS sip:gw.test SIP/2.0\r\nContent-Length: 0\r\n\r\n';
      assert.deepEqual(feed([b(msg + msg)]).units, [msg, msg]);
    });
  });

  describe('protocol errors that MUST end the stream', () => {
    const bad: Array<[string, string, string]> = [
      ['a missing Content-Length', 'Call-ID: x', 'missing-content-length'],
      ['a non-numeric Content-Length', 'Content-Length: abc', 'invalid-content-length'],
      ['a negative Content-Length', 'Content-Length: -1', 'invalid-content-length'],
      ['a signed Content-Length', 'Content-Length: +1', 'invalid-content-length'],
      ['an empty Content-Length', 'Content-Length:  ', 'invalid-content-length'],
      ['a list as Content-Length', 'Content-Length: 1, 1', 'invalid-content-length'],
      ['an absurdly long Content-Length', 'Content-Length: 00000000000000000001', 'invalid-content-length'],
      ['two Content-Length headers', 'Content-Length: 1\r\nl: 1', 'duplicate-content-length'],
      ['two equal Content-Length headers', 'Content-Length: 1\r\nContent-Length: 1', 'duplicate-content-length'],
      ['a Content-Length beyond the message limit', 'Content-Length: 5000', 'message-too-large'],
    ];
    for (const [what, header, reason] of bad) {
      it(`refuses ${what}`, () => {
        const { units, framer } = feed([b(`OPTIONS sip:gw.test SIP/2.0\r\n${header}\r\n\r\nx`)]);
        assert.deepEqual(units, [`ERROR:${reason}`]);
        assert.equal(framer.bufferedBytes, 0);
        // The framer stays failed: nothing after the error is ever framed.
        assert.deepEqual(render(framer.push(b(sipRequest('OPTIONS')))), [`ERROR:${reason}`]);
      });
    }

    it('delivers the complete messages that preceded the error, then the error', () => {
      const good = sipRequest('OPTIONS');
      assert.deepEqual(feed([b(good + 'BYE sip:x SIP/2.0\r\n\r\n')]).units, [good, 'ERROR:missing-content-length']);
    });

    it('refuses a header block that never ends, holding no more than the limit plus one chunk', () => {
      const framer = new StreamFramer(LIMITS);
      const chunk = b('X-Junk: ' + 'a'.repeat(90) + '\r\n'); // 100 bytes of endless header lines
      let fed = 0;
      let error: FramingError | undefined;
      for (let i = 0; i < 10_000 && !error; i++) {
        const units = framer.push(chunk);
        fed += chunk.length;
        assert.ok(framer.bufferedBytes <= LIMITS.maxHeaderBytes + chunk.length);
        const last = units.at(-1);
        if (last?.kind === 'error') error = last.error;
      }
      assert.equal(error?.reason, 'header-too-large');
      assert.ok(fed <= LIMITS.maxHeaderBytes + chunk.length, `failed only after ${fed} bytes`);
      assert.equal(framer.bufferedBytes, 0);
    });

    it('refuses a header block that ends past the limit', () => {
      const long = `OPTIONS sip:gw.test SIP/2.0\r\nX-Pad: ${'p'.repeat(1100)}\r\nContent-Length: 0\r\n\r\n`;
      assert.deepEqual(feed([b(long)]).units, ['ERROR:header-too-large']);
    });

    it('accepts a header block of exactly the limit', () => {
      const head = 'OPTIONS sip:gw.test SIP/2.0\r\nContent-Length: 0\r\nX-Pad: ';
      const msg = head + 'p'.repeat(LIMITS.maxHeaderBytes - head.length - 4) + '\r\n\r\n';
      assert.equal(msg.length, LIMITS.maxHeaderBytes);
      assert.deepEqual(feed([b(msg)]).units, [msg]);
    });
  });
});

describe('RFC 5626 §4.4.1 CRLF keep-alive and RFC 3261 §7.5 CRLFs before a start-line', () => {
  it('reports a double-CRLF ping (and the pong is a single CRLF)', () => {
    assert.deepEqual(feed([b('\r\n\r\n')]).units, ['PING']);
    assert.equal(PONG.toString('latin1'), '\r\n');
  });

  it('recognises a ping split across chunks at every offset', () => {
    for (const parts of [['\r', '\n\r\n'], ['\r\n', '\r\n'], ['\r\n\r', '\n']]) {
      assert.deepEqual(feed(parts.map(b)).units, ['PING'], JSON.stringify(parts));
    }
  });

  it('skips a lone CRLF before a message without answering it', () => {
    const msg = sipRequest('OPTIONS');
    assert.deepEqual(feed([b('\r\n' + msg)]).units, [msg]);
    assert.deepEqual(feed([b('\r\n'), b(msg)]).units, [msg]);
  });

  it('answers pings between and after messages, not CRLFs inside them', () => {
    const msg = sipRequest('OPTIONS');
    assert.deepEqual(feed([b(msg + '\r\n\r\n' + msg + '\r\n\r\n\r\n\r\n')]).units, [msg, 'PING', msg, 'PING', 'PING']);
  });

  it('treats three CRLFs as one ping and one skipped CRLF', () => {
    const msg = sipRequest('OPTIONS');
    assert.deepEqual(feed([b('\r\n\r\n\r\n' + msg)]).units, ['PING', msg]);
  });

  it('holds nothing after keep-alives', () => {
    const { framer } = feed([b('\r\n\r\n'), b('\r\n\r\n')]);
    assert.equal(framer.bufferedBytes, 0);
  });
});
