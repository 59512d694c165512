/** RFC 4566 parsing, validation and write-back of media/sdp/session.ts and scan.ts. */
import assert from 'node:assert/strict';
import {
  parseSdp,
  writeSdp,
  SdpError,
  cryptoAttributeValues,
  otherAttributes,
  type ParseSdpOptions,
  type SdpErrorCode,
} from '../../../media/sdp';
import * as F from './fixtures';

const MINIMAL = ['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', 'm=audio 4000 RTP/AVP 0'];

function sdp(lines: readonly string[]): string {
  return lines.join('\r\n') + '\r\n';
}

/** MINIMAL with line `i` replaced (or removed when `line` is undefined). */
function variant(i: number, line: string | undefined): string {
  const l = [...MINIMAL];
  if (line === undefined) l.splice(i, 1);
  else l[i] = line;
  return sdp(l);
}

function rejects(text: string | Uint8Array, code: SdpErrorCode, status: 400 | 488, options?: ParseSdpOptions): void {
  assert.throws(
    () => parseSdp(text, options),
    (e: unknown) => e instanceof SdpError && e.code === code && e.status === status,
    `expected SdpError ${code}/${status}`,
  );
}

/** Lines of a description, order-insensitive: what a round trip must preserve. */
function lineSet(text: string): string[] {
  return text.split(/\r?\n/).filter((l) => l !== '').sort();
}

describe('RFC 4566 SDP parsing (session.ts, scan.ts)', () => {
  describe('§5 required lines', () => {
    it('it MUST accept the minimal description and every captured peer offer', () => {
      assert.equal(parseSdp(sdp(MINIMAL)).media.length, 1);
      for (const [name, text] of Object.entries(F)) {
        assert.doesNotThrow(() => parseSdp(text), name);
      }
    });

    it('it MUST reject a description without v=, o=, s= or t= with 400', () => {
      rejects(variant(0, undefined), 'missing-version', 400);
      rejects(variant(1, undefined), 'missing-origin', 400);
      rejects(variant(2, undefined), 'missing-session-name', 400);
      rejects(variant(4, undefined), 'missing-timing', 400);
      rejects('', 'missing-version', 400);
    });

    it('it MUST reject v= other than 0 and an o= that is not the second line', () => {
      rejects(variant(0, 'v=1'), 'bad-version', 400);
      rejects(sdp(['v=0', 's=-', 'o=- 1 1 IN IP4 192.0.2.1', 't=0 0']), 'missing-origin', 400);
    });

    it('it MUST reject a malformed o= or t= line', () => {
      rejects(variant(1, 'o=- x 1 IN IP4 192.0.2.1'), 'malformed-origin', 400);
      rejects(variant(1, 'o=- 1 1 IN IP4'), 'malformed-origin', 400);
      rejects(variant(1, 'o=- 1 1 ATM NSAP 47.0005'), 'malformed-origin', 400);
      rejects(variant(4, 't=0'), 'malformed-timing', 400);
      rejects(variant(4, 't=now later'), 'malformed-timing', 400);
    });

    it('it MUST reject unknown line types, misplaced lines and duplicates of single lines', () => {
      rejects(sdp([...MINIMAL, 'x=1']), 'unknown-line-type', 400);
      rejects(sdp([...MINIMAL, 't=0 0']), 'line-out-of-place', 400);
      rejects(sdp([...MINIMAL.slice(0, 3), 's=again', ...MINIMAL.slice(3)]), 'duplicate-line', 400);
      rejects(sdp([...MINIMAL, 'c=IN IP4 192.0.2.2', 'c=IN IP4 192.0.2.3']), 'duplicate-line', 400);
    });

    it('it MUST reject lines that are not <type>=<value>, or carry NUL or a bare CR', () => {
      rejects(sdp([...MINIMAL, 'a']), 'malformed-line', 400);
      rejects(sdp([...MINIMAL, 'A=b']), 'malformed-line', 400);
      rejects(sdp([...MINIMAL, 'a=x\u0000y']), 'malformed-line', 400);
      rejects(sdp([...MINIMAL, 'a=x\ry']), 'malformed-line', 400);
      rejects(sdp([...MINIMAL, 'a=x\u2028y']), 'malformed-line', 400);
    });

    it('it SHOULD accept LF-only line ends and ignore empty lines', () => {
      const p = parseSdp(MINIMAL.join('\n') + '\n\n');
      assert.equal(p.media[0]!.port, 4000);
      assert.equal(parseSdp(sdp(MINIMAL) + '\r\n').media.length, 1);
    });
  });

  describe('§5.7 connection data', () => {
    it('it MUST reject an m= section without c= at either level (port 0 excepted)', () => {
      const noC = MINIMAL.filter((l) => !l.startsWith('c='));
      rejects(sdp(noC), 'missing-connection', 400);
      assert.doesNotThrow(() => parseSdp(sdp([...noC.slice(0, -1), 'm=audio 0 RTP/AVP 0'])));
      assert.doesNotThrow(() => parseSdp(sdp([...noC, 'c=IN IP4 192.0.2.9'])), 'media-level c= suffices');
    });

    it('it MUST accept IPv4 and IPv6 unicast literals, the unspecified address included', () => {
      for (const c of ['c=IN IP4 203.0.113.7', 'c=IN IP6 2001:db8::7', 'c=IN IP4 0.0.0.0', 'c=IN IP6 ::']) {
        assert.doesNotThrow(() => parseSdp(variant(3, c)), c);
      }
    });

    it('it MUST refuse multicast, FQDN, zone ids and family mismatches with 488', () => {
      for (const c of [
        'c=IN IP4 224.2.1.1/127',
        'c=IN IP4 239.1.1.1',
        'c=IN IP4 host.example.com',
        'c=IN IP6 fe80::1%eth0',
        'c=IN IP6 ff02::1',
        'c=IN IP4 2001:db8::1',
        'c=IN IP6 192.0.2.1',
        'c=ATM NSAP 47.0005',
      ]) {
        rejects(variant(3, c), 'unsupported-connection', 488);
      }
      rejects(variant(3, 'c=IN IP4'), 'malformed-connection', 400);
    });
  });

  describe('§5.14 media descriptions', () => {
    it('it MUST reject a port above 65535 with 400', () => {
      rejects(variant(5, 'm=audio 65536 RTP/AVP 0'), 'port-out-of-range', 400);
      assert.equal(parseSdp(variant(5, 'm=audio 65535 RTP/AVP 0')).media[0]!.port, 65535);
    });

    it('it MUST reject malformed m= lines and RTP formats outside 0..127', () => {
      for (const m of ['m=audio', 'm=audio 4000 RTP/AVP', 'm=audio x RTP/AVP 0', 'm=audio 4000 RTP/AVP 128', 'm=audio 4000 RTP/AVP 0 0', 'm=audio 4000 RTP/AVP abc']) {
        rejects(variant(5, m), 'malformed-media', 400);
      }
    });

    it('it MUST refuse port/count and media tokens sdp-transform cannot carry with 488', () => {
      rejects(variant(5, 'm=audio 4000/2 RTP/AVP 0'), 'unsupported-media', 488);
      rejects(variant(5, 'm=x-media 4000 RTP/AVP 0'), 'unsupported-media', 488);
    });

    it('it MUST bound the number of m= sections, lines and octets', () => {
      const many = [...MINIMAL];
      for (let i = 0; i < 16; i++) many.push(`m=audio ${5000 + 2 * i} RTP/AVP 0`);
      rejects(sdp(many), 'too-many-media', 488);
      const lines = [...MINIMAL];
      for (let i = 0; i < 1100; i++) lines.push(`a=x${i}`);
      rejects(sdp(lines), 'too-many-lines', 400);
      rejects(sdp([...MINIMAL, `a=x:${'y'.repeat(40000)}`]), 'too-large', 400);
      const tight = { limits: { maxBytes: 64, maxLines: 100, maxMedia: 4 } };
      rejects(sdp(MINIMAL), 'too-large', 400, tight);
      rejects(Buffer.from(sdp(MINIMAL)), 'too-large', 400, tight);
    });
  });

  describe('§5.13 attributes', () => {
    it('it MUST reject an attribute whose name is not a token', () => {
      rejects(sdp([...MINIMAL, 'a=bad name:1']), 'malformed-attribute', 400);
      rejects(sdp([...MINIMAL, 'a=']), 'malformed-attribute', 400);
    });

    it('it MUST reject two direction attributes at one level (RFC 3264 §5.1)', () => {
      rejects(sdp([...MINIMAL, 'a=sendonly', 'a=inactive']), 'conflicting-direction', 400);
      assert.doesNotThrow(() => parseSdp(sdp([...MINIMAL.slice(0, 5), 'a=sendonly', MINIMAL[5]!, 'a=inactive'])));
    });
  });

  describe('UTF-8 bodies', () => {
    it('it MUST accept octets and reject invalid UTF-8 with 400', () => {
      assert.equal(parseSdp(Buffer.from(F.LINPHONE_SRTP)).media.length, 1);
      rejects(Buffer.from([...Buffer.from(sdp(MINIMAL)), 0xc3, 0x28]), 'encoding', 400);
    });
  });

  describe('write(parse(x)) fidelity', () => {
    it('it MUST keep every line of every sample (order aside)', () => {
      for (const [name, text] of Object.entries(F)) {
        assert.deepEqual(lineSet(writeSdp(parseSdp(text))), lineSet(text), name);
      }
    });

    it('it MUST keep unknown attributes at session and media level verbatim', () => {
      const p = parseSdp(F.TORTURE);
      assert.ok(otherAttributes(p).includes('x-vendor-session:opaque value'));
      assert.ok(otherAttributes(p.media[0]!).includes('x-unknown-flag'));
      assert.ok(otherAttributes(p.media[0]!).includes('rtcp-mux-only'), 'not folded into a=rtcp-mux');
      const out = writeSdp(p);
      for (const l of ['a=x-vendor-session:opaque value', 'a=x-unknown-flag', 'a=rtcp-mux-only', 'a=rtcp-mux', 'a=ptime:20.0']) {
        assert.ok(out.split('\r\n').includes(l), l);
      }
    });

    it('it MUST give the same result when the attribute probe answers from its cache (second parse)', () => {
      for (const [name, text] of Object.entries(F)) {
        const first = writeSdp(parseSdp(text));
        assert.equal(writeSdp(parseSdp(text)), first, name);
      }
      // A repeated single-valued attribute stays verbatim on a cached parse too (sdp-transform keeps one).
      const twice = sdp([...MINIMAL, 'a=ptime:20', 'a=ptime:30']);
      for (let i = 0; i < 2; i++) {
        const out = writeSdp(parseSdp(twice)).split('\r\n');
        assert.ok(out.includes('a=ptime:20') && out.includes('a=ptime:30'), `parse ${i + 1}`);
      }
    });

    it('it MUST keep both fingerprints and every a=crypto session parameter', () => {
      const out = writeSdp(parseSdp(F.TORTURE)).split('\r\n');
      assert.equal(out.filter((l) => l.startsWith('a=fingerprint:')).length, 2);
      const crypto = out.find((l) => l.startsWith('a=crypto:7 '));
      assert.ok(crypto?.endsWith(' KDR=0 WSH=128 -X-OPTIONAL'));
    });

    it('it MUST keep 64-bit o= and t= numbers exactly', () => {
      const out = writeSdp(parseSdp(F.TORTURE));
      assert.ok(out.includes('o=torture 18446744073709551615 18446744073709551614 IN IP6 2001:db8::1\r\n'));
      assert.ok(out.includes('t=3034423619 0\r\n'));
    });

    it('it MUST write CRLF line ends and refuse to write a description it would reject', () => {
      const p = parseSdp(F.BARESIP_SRTP_MAND);
      assert.match(writeSdp(p), /^v=0\r\no=/);
      delete p.connection;
      assert.throws(() => writeSdp(p), (e: unknown) => e instanceof SdpError && e.code === 'missing-connection');
    });

    it('it MUST expose a=crypto values whole, malformed ones included', () => {
      const p = parseSdp(sdp([...MINIMAL, 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:abc KDR=1 UNENCRYPTED_SRTP', 'a=crypto:oops']));
      assert.deepEqual(cryptoAttributeValues(p, 0), ['1 AES_CM_128_HMAC_SHA1_80 inline:abc KDR=1 UNENCRYPTED_SRTP', 'oops']);
      assert.throws(() => cryptoAttributeValues(p, 1), RangeError);
    });
  });

  describe('SdpError', () => {
    it('its reason MUST be a wire-safe phrase with the status class and no received text', () => {
      try {
        parseSdp(variant(3, 'c=IN IP4 secret.example.com'));
        assert.fail('must throw');
      } catch (e) {
        assert.ok(e instanceof SdpError);
        assert.equal(e.reason, 'Not Acceptable Here - Unsupported SDP connection address');
        assert.equal(e.line, 4);
        assert.ok(!e.message.includes('secret'));
      }
    });
  });
});
