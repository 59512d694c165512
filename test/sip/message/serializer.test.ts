import { strict as assert } from 'node:assert';
import { SipSerializeError } from '../../../gateway/sip/message/errors';
import { HeaderList, SipRequest, SipResponse, makeResponse } from '../../../gateway/sip/message/message';
import { parseMessage } from '../../../gateway/sip/message/parser';
import { serializeMessage } from '../../../gateway/sip/message/serializer';
import type { SipUri } from '../../../gateway/sip/message/types';
import { parseRequest, requestLines, responseLines, wire } from './helpers';

function request(): SipRequest {
  return parseRequest(wire(requestLines('INVITE', ['Allow: INVITE, ACK', 'Content-Type: application/sdp']), 'v=0\r\n'));
}

/** parse → serialize → parse gives an equal message. */
function roundTrips(data: Buffer, stream = false): void {
  const first = parseMessage(data, { stream });
  const again = parseMessage(serializeMessage(first), { stream: true });
  assert.deepEqual(again, first);
}

describe('SIP message serializer (RFC 3261 §7)', () => {
  describe('layout', () => {
    it('writes the start line, typed fields, the HeaderList, Content-Length, the empty line, the body', () => {
      const text = serializeMessage(request()).toString();
      assert.equal(
        text,
        [
          'INVITE sip:bob@biloxi.example.com SIP/2.0',
          'Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds',
          'Max-Forwards: 70',
          'From: "Alice" <sip:alice@atlanta.example.com>;tag=1928301774',
          'To: "Bob" <sip:bob@biloxi.example.com>',
          'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
          'CSeq: 314159 INVITE',
          'Allow: INVITE, ACK',
          'Content-Type: application/sdp',
          'Content-Length: 5',
          '',
          'v=0\r\n',
        ].join('\r\n'),
      );
    });

    it('writes a Status-Line, Contact values and "*"', () => {
      const r = parseMessage(wire(responseLines('200 OK', ['Contact: <sip:a@192.0.2.1>;expires=60, <sip:b@192.0.2.2>'])), { stream: false }) as SipResponse;
      const text = serializeMessage(r).toString();
      assert.match(text, /^SIP\/2\.0 200 OK\r\n/);
      assert.match(text, /\r\nContact: <sip:a@192\.0\.2\.1>;expires=60\r\nContact: <sip:b@192\.0\.2\.2>\r\n/);
      const reg = parseRequest(wire(requestLines('REGISTER', ['Contact: *'])));
      assert.match(serializeMessage(reg).toString(), /\r\nContact: \*\r\n/);
    });

    it('always computes Content-Length from the body (§20.14), ignoring a stale one', () => {
      const r = request();
      r.headers.add('content-length', '999');
      r.body = Buffer.from([0, 1, 2, 255]);
      const out = serializeMessage(r);
      assert.equal(out.toString('latin1').match(/Content-Length/gi)?.length, 1);
      assert.match(out.toString('latin1'), /\r\nContent-Length: 4\r\n\r\n/);
      assert.deepEqual([...out.subarray(out.length - 4)], [0, 1, 2, 255]);
    });

    it('joins consecutive elements of a list header on one line (§7.3.1), but not other headers', () => {
      const r = parseRequest(wire(requestLines('OPTIONS', ['Route: <sip:a.example.com;lr>', 'Route: <sip:b.example.com;lr>', 'Supported:', 'Supported: timer', 'Subject: a', 'Subject: b', 'Allow: ACK'])));
      const text = serializeMessage(r).toString();
      assert.match(text, /\r\nRoute: <sip:a\.example\.com;lr>, <sip:b\.example\.com;lr>\r\nSupported: \r\nSupported: timer\r\nSubject: a\r\nSubject: b\r\nAllow: ACK\r\n/);
      assert.deepEqual(parseRequest(Buffer.from(text), { stream: true }).headers.getAll('Route'), r.headers.getAll('Route'));
    });

    it('writes Content-Length: 0 without a body', () => {
      const r = request();
      r.body = Buffer.alloc(0);
      assert.match(serializeMessage(r).toString(), /\r\nContent-Length: 0\r\n\r\n$/);
    });

    it('counts multi-byte UTF-8 headers in octets when placing the body', () => {
      const r = request();
      r.headers.add('Subject', 'Jérôme 大停電');
      const out = serializeMessage(r);
      assert.equal(parseRequest(out, { stream: true }).headers.get('Subject'), 'Jérôme 大停電');
    });
  });

  describe('header injection (the serializer is the last guard)', () => {
    it('refuses a CR or LF in any value, whoever set it', () => {
      const cases: Array<(r: SipRequest) => void> = [
        (r) => r.headers.add('Subject', 'x\r\nVia: SIP/2.0/UDP evil.example.com'),
        (r) => r.headers.add('Subject', 'x\nEvil: 1'),
        (r) => r.headers.add('Subject', 'x\rEvil: 1'),
        (r) => r.from.params.set('tag', 'a\r\nEvil: 1'),
        (r) => ((r.uri as SipUri).user = 'a\r\nEvil: 1'),
        (r) => (r.via[0].host = 'h\r\nEvil: 1'),
        (r) => (r.callId = 'c\r\nEvil: 1'),
      ];
      for (const mutate of cases) {
        const r = request();
        mutate(r);
        assert.throws(() => serializeMessage(r), SipSerializeError);
      }
    });

    it('refuses a CR or LF in a display name (not representable in a quoted-string)', () => {
      const r = request();
      r.from.displayName = 'Alice\r\nEvil: 1';
      assert.throws(() => serializeMessage(r));
    });

    it('refuses a non-token method or header name, and a status outside 100..699', () => {
      const r = request();
      r.method = 'IN VITE';
      assert.throws(() => serializeMessage(r), SipSerializeError);
      const h = request();
      h.headers.add('Bad Name', 'x');
      assert.throws(() => serializeMessage(h), SipSerializeError);
      const resp = makeResponse(request(), 200, 'OK');
      resp.status = 1000;
      assert.throws(() => serializeMessage(resp), SipSerializeError);
      resp.status = 486;
      resp.reason = 'Busy\r\nEvil: 1';
      assert.throws(() => serializeMessage(resp), SipSerializeError);
    });
  });

  describe('round trips (parse → serialize → parse)', () => {
    it('keeps display names with quotes, backslashes and control characters', () => {
      roundTrips(wire(requestLines().map((l) => (l.startsWith('To') ? 'To: "BEL:\\\u0007 NUL:\\\u0000 \\"q\\" \\\\" <sip:b@b.com>' : l))));
    });

    it('keeps IPv6 hosts, URI parameters and headers, header parameters', () => {
      roundTrips(
        wire([
          'INVITE sips:[2001:db8::10]:5061;transport=tls;lr SIP/2.0',
          'Via: SIP/2.0/TLS [2001:db8::9:1]:5061;branch=z9hG4bKx;received=2001:db8::9:255;rport=5061',
          'Max-Forwards: 0',
          'To: <sips:bob@[2001:db8::10]?subject=hi%20there&priority=urgent>',
          'From: sips:alice@example.com;tag=1;x="quoted;value"',
          'Call-ID: c1',
          'CSeq: 1 INVITE',
          'Contact: <sip:alice@[::1]:5061;ob>;+sip.instance="<urn:uuid:1>";reg-id=1;expires=600',
          'Route: <sip:p1.example.com;lr>',
          'X-Unknown: ;;,,;;,;',
        ]),
      );
    });

    it('keeps tel: and opaque URIs', () => {
      roundTrips(
        wire([
          'OPTIONS tel:+1-201-555-0123;phone-context=example.com SIP/2.0',
          'Via: SIP/2.0/UDP h.example.com;branch=z9hG4bKt',
          'To: urn:service:sos',
          'From: <http://www.example.com>;tag=1',
          'Call-ID: c2',
          'CSeq: 1 OPTIONS',
          'Contact: <name:John_Smith>',
        ]),
      );
    });

    it('keeps responses, their reason phrase and a binary body', () => {
      const body = Buffer.from([0x30, 0x82, 0x00, 0x0d, 0x0a, 0xff]);
      const data = Buffer.concat([wire(responseLines('200 = 2**3 * 5**2 сто', [`Content-Length: ${body.length}`])), body]);
      roundTrips(data);
    });

    it('keeps a message serialized from constructed values', () => {
      const r = new SipRequest({
        method: 'BYE',
        uri: { scheme: 'sip', user: 'bob', host: '192.0.2.4', params: new Map(), headers: new Map() },
        via: [{ protocol: 'SIP/2.0', transport: 'UDP', host: '192.0.2.1', port: 5060, params: new Map([['branch', 'z9hG4bKnashds10']]) }],
        from: { uri: { scheme: 'sip', user: 'alice', host: 'atlanta.com', params: new Map(), headers: new Map() }, params: new Map([['tag', 'a']]) },
        to: { displayName: 'Bob', uri: { scheme: 'sip', user: 'bob', host: 'biloxi.com', params: new Map(), headers: new Map() }, params: new Map([['tag', 'b']]) },
        callId: 'x@y',
        cseq: { seq: 231, method: 'BYE' },
        maxForwards: 70,
        headers: new HeaderList(),
      });
      const back = parseMessage(serializeMessage(r), { stream: true }) as SipRequest;
      assert.equal(back.method, 'BYE');
      assert.deepEqual(back.via, r.via);
      assert.deepEqual(back.from, r.from);
      assert.deepEqual(back.to, r.to);
      assert.deepEqual(back.uri, r.uri);
    });
  });
});
