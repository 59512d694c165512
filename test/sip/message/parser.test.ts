import { strict as assert } from 'node:assert';
import { makeErrorResponse } from '../../../gateway/sip/message/error-response';
import { SipParseError } from '../../../gateway/sip/message/errors';
import { parseMessage } from '../../../gateway/sip/message/parser';
import type { NameAddr, SipUri } from '../../../gateway/sip/message/types';
import { parseError, parseRequest, parseResponse, requestLines, responseLines, wire } from './helpers';

function userOf(a: NameAddr): string | undefined {
  return (a.uri as SipUri).user;
}

describe('SIP message parser', () => {
  describe('RFC 3261 §7.1 Request-Line', () => {
    it('reads method, Request-URI and the typed header fields', () => {
      const r = parseRequest(wire(requestLines('INVITE')));
      assert.equal(r.method, 'INVITE');
      assert.equal((r.uri as SipUri).user, 'bob');
      assert.equal(r.via[0].params.get('branch'), 'z9hG4bK776asdhds');
      assert.equal(r.maxForwards, 70);
      assert.equal(userOf(r.from), 'alice');
      assert.equal(r.from.params.get('tag'), '1928301774');
      assert.equal(userOf(r.to), 'bob');
      assert.equal(r.callId, 'a84b4c76e66710@pc33.atlanta.example.com');
      assert.deepEqual(r.cseq, { seq: 314159, method: 'INVITE' });
      assert.equal(r.body.length, 0);
    });

    it('accepts unknown methods that are tokens', () => {
      assert.equal(parseRequest(wire(requestLines('NEWMETHOD'))).method, 'NEWMETHOD');
    });

    for (const [what, line] of [
      ['two SP after the method (RFC 4475 §3.1.2.9)', 'OPTIONS  sip:bob@biloxi.example.com SIP/2.0'],
      ['SP at the end of the line (RFC 4475 §3.1.2.10)', 'OPTIONS sip:bob@biloxi.example.com SIP/2.0 '],
      ['LWS inside the Request-URI (RFC 4475 §3.1.2.8)', 'OPTIONS sip:bob@biloxi.example.com; lr SIP/2.0'],
      ['a missing version', 'OPTIONS sip:bob@biloxi.example.com'],
      ['a garbage version', 'OPTIONS sip:bob@biloxi.example.com HTTP/1.1'],
      ['HTAB as separator', 'OPTIONS\tsip:bob@biloxi.example.com SIP/2.0'],
    ] as const) {
      it(`answers 400 to ${what}`, () => {
        const lines = requestLines();
        lines[0] = line;
        const e = parseError(wire(lines));
        assert.equal(e.status, 400);
        assert.equal(e.reason, 'Bad Request - Malformed Request-Line');
        assert.equal(e.canRespond, true);
      });
    }

    it('answers 400 to <> around the Request-URI (RFC 4475 §3.1.2.7)', () => {
      const lines = requestLines();
      lines[0] = 'OPTIONS <sip:bob@biloxi.example.com> SIP/2.0';
      assert.equal(parseError(wire(lines)).reason, 'Bad Request - Malformed Request-URI');
    });

    it('answers 400 to headers in the Request-URI (§19.1.1, RFC 4475 §3.1.2.11)', () => {
      const lines = requestLines();
      lines[0] = 'OPTIONS sip:user@example.com?Route=%3Csip:example.com%3E SIP/2.0';
      assert.equal(parseError(wire(lines)).reason, 'Bad Request - Headers in Request-URI');
    });

    it('answers 505 to another SIP version, and still reads what the answer needs (RFC 4475 §3.1.2.16)', () => {
      const lines = requestLines();
      lines[0] = 'OPTIONS sip:bob@biloxi.example.com SIP/7.0';
      const e = parseError(wire(lines));
      assert.equal(e.status, 505);
      assert.equal(e.canRespond, true);
      assert.equal(e.partial?.callId, 'a84b4c76e66710@pc33.atlanta.example.com');
    });

    it('accepts the version in any case ("SIP" is case-insensitive in ABNF)', () => {
      const lines = requestLines();
      lines[0] = 'OPTIONS sip:bob@biloxi.example.com sip/2.0';
      assert.equal(parseRequest(wire(lines)).method, 'OPTIONS');
    });
  });

  describe('RFC 3261 §7.2 Status-Line', () => {
    it('reads status and reason', () => {
      const r = parseResponse(wire(responseLines('180 Ringing')));
      assert.equal(r.status, 180);
      assert.equal(r.reason, 'Ringing');
      assert.equal(r.via[0].params.get('received'), '192.0.2.1');
    });

    it('accepts an empty reason phrase, with or without its SP (RFC 4475 §3.1.1.13)', () => {
      assert.equal(parseResponse(wire(responseLines('100 '))).reason, '');
      assert.equal(parseResponse(wire(responseLines('100'))).reason, '');
    });

    it('keeps a UTF-8 reason phrase (RFC 4475 §3.1.1.12)', () => {
      assert.equal(parseResponse(wire(responseLines('200 = 2**3 * 5**2 но сто девяносто девять'))).reason, '= 2**3 * 5**2 но сто девяносто девять');
    });

    for (const code of ['4294967301', '99', '700', '20', '2000', 'abc', '-200']) {
      it(`drops a response with status code ${code} (RFC 4475 §3.1.2.19)`, () => {
        const e = parseError(wire(responseLines(`${code} Whatever`)));
        assert.equal(e.canRespond, false);
      });
    }

    it('drops a response of another SIP version', () => {
      const lines = responseLines();
      lines[0] = 'SIP/3.0 200 OK';
      assert.equal(parseError(wire(lines)).canRespond, false);
    });

    it('drops a response missing a mandatory field, and never makes it answerable', () => {
      const e = parseError(wire(responseLines().filter((l) => !l.startsWith('Call-ID'))));
      assert.equal(e.canRespond, false);
      assert.equal(makeErrorResponse(e), undefined);
    });

    it('drops a response with an overlarge CSeq (RFC 4475 §3.1.2.5)', () => {
      const lines = responseLines().map((l) => (l.startsWith('CSeq') ? 'CSeq: 9292394834772304023312 OPTIONS' : l));
      assert.equal(parseError(wire(lines)).canRespond, false);
    });
  });

  describe('RFC 3261 §7.3.1 header fields', () => {
    it('matches names case-insensitively and stores canonical names', () => {
      const r = parseRequest(wire(requestLines('OPTIONS', ['cONTENT-tYPE: text/plain', 'x-Custom-Header: v'])));
      assert.equal(r.headers.get('Content-Type'), 'text/plain');
      assert.deepEqual([...r.headers].map(([n]) => n), ['Content-Type', 'x-Custom-Header']);
    });

    it('allows whitespace before the colon and none after it', () => {
      const lines = requestLines().map((l) => l.replace(': ', '  :'));
      const r = parseRequest(wire(lines));
      assert.equal(r.maxForwards, 70);
      assert.equal(r.callId, 'a84b4c76e66710@pc33.atlanta.example.com');
    });

    it('unfolds continuation lines into one SP (RFC 4475 §3.1.1.1)', () => {
      const r = parseRequest(wire(requestLines('OPTIONS', ['Subject: first\r\n   second\r\n\tthird', 'NewFangled:\r\n value'])));
      assert.equal(r.headers.get('Subject'), 'first second third');
      assert.equal(r.headers.get('NewFangled'), 'value');
    });

    it('unfolds typed fields, e.g. CSeq and Via folded over lines', () => {
      const lines = requestLines().map((l) => (l.startsWith('CSeq') ? 'cseq: 0009\r\n  OPTIONS' : l.startsWith('Via') ? 'Via  : SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw' : l));
      const r = parseRequest(wire(lines));
      assert.deepEqual(r.cseq, { seq: 9, method: 'OPTIONS' });
      assert.equal(r.via[0].host, '192.0.2.2');
    });

    it('keeps an empty value (RFC 4475 §3.1.1.1 "s :")', () => {
      const r = parseRequest(wire(requestLines('OPTIONS', ['s :'])));
      assert.equal(r.headers.get('Subject'), '');
    });

    it('splits list headers into one entry per element, across repeated fields', () => {
      const r = parseRequest(wire(requestLines('OPTIONS', ['Allow: INVITE, ACK,CANCEL', 'Allow: BYE', 'Supported:', 'Accept: application/sdp;level=1, text/plain;q="0.5,x"'])));
      assert.deepEqual(r.headers.getAll('Allow'), ['INVITE', 'ACK', 'CANCEL', 'BYE']);
      assert.deepEqual(r.headers.getAll('Supported'), ['']);
      assert.deepEqual(r.headers.getAll('Accept'), ['application/sdp;level=1', 'text/plain;q="0.5,x"']);
    });

    it('does not split credentials, challenges or Date (their values contain commas)', () => {
      const auth = 'Digest username="bob", realm="biloxi.com", nonce="dcd98b", uri="sip:bob@biloxi.com", response="6629fae4"';
      const r = parseRequest(wire(requestLines('OPTIONS', [`Authorization: ${auth}`, 'Date: Sat, 13 Nov 2010 23:29:00 GMT'])));
      assert.deepEqual(r.headers.getAll('Authorization'), [auth]);
      assert.equal(r.headers.get('Date'), 'Sat, 13 Nov 2010 23:29:00 GMT');
    });

    it('validates Route and Record-Route values and keeps one entry per route', () => {
      const r = parseRequest(wire(requestLines('OPTIONS', ['Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>', 'Record-Route: <sip:p3.example.com;lr>'])));
      assert.deepEqual(r.headers.getAll('Route'), ['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
      assert.equal(parseError(wire(requestLines('OPTIONS', ['Route: <sip:p1.example.com;lr']))).reason, 'Bad Request - Malformed Route');
      assert.equal(parseError(wire(requestLines('OPTIONS', ['Record-Route: sip:a b']))).reason, 'Bad Request - Malformed Record-Route');
    });

    it('collects Via values in order across fields and comma lists', () => {
      const lines = requestLines();
      lines.splice(2, 0, 'v: SIP/2.0/TCP p2.example.com;branch=z9hG4bK2, SIP/2.0/TLS p3.example.com;branch=z9hG4bK3', 'VIA: SIP/2.0/UDP p4.example.com');
      const r = parseRequest(wire(lines));
      assert.deepEqual(r.via.map((v) => v.host), ['pc33.atlanta.example.com', 'p2.example.com', 'p3.example.com', 'p4.example.com']);
    });

    it('refuses a header line without a colon or with a non-token name', () => {
      assert.equal(parseError(wire(requestLines('OPTIONS', ['NoColonHere']))).reason, 'Bad Request - Malformed Header Line');
      assert.equal(parseError(wire(requestLines('OPTIONS', ['Bad Name: x']))).reason, 'Bad Request - Malformed Header Line');
      assert.equal(parseError(wire(requestLines('OPTIONS', [': x']))).reason, 'Bad Request - Malformed Header Line');
    });

    it('refuses bare LF and bare CR line ends', () => {
      assert.equal(parseError(Buffer.from(requestLines().join('\n') + '\n\n')).canRespond, false);
      const lines = requestLines('OPTIONS', ['Subject: a\rb']);
      assert.equal(parseError(wire(lines)).reason, 'Bad Request - Malformed Line Ending');
    });
  });

  describe('RFC 3261 §7.3.3 compact forms', () => {
    const compact: Record<string, string> = {
      c: 'Content-Type', e: 'Content-Encoding', s: 'Subject', k: 'Supported', o: 'Event', r: 'Refer-To', u: 'Allow-Events',
      x: 'Session-Expires', y: 'Identity', a: 'Accept-Contact', b: 'Referred-By', j: 'Reject-Contact', d: 'Request-Disposition',
    };
    for (const [short, long] of Object.entries(compact)) {
      it(`reads "${short}" as ${long}`, () => {
        const r = parseRequest(wire(requestLines('OPTIONS', [`${short.toUpperCase()}: value`])));
        assert.equal(r.headers.getAll(long).length, 1);
      });
    }

    it('reads i, m, f, t, v and l into the typed fields', () => {
      const r = parseRequest(
        wire(['REGISTER sip:example.com SIP/2.0', 'v: SIP/2.0/UDP h.example.com;branch=z9hG4bKx', 't: <sip:a@example.com>', 'f: <sip:a@example.com>;tag=1', 'i: cid', 'CSeq: 1 REGISTER', 'm: <sip:a@192.0.2.1>', 'L: 4'], 'abcd'),
      );
      assert.equal(r.callId, 'cid');
      assert.equal(r.via.length, 1);
      assert.equal(userOf(r.to), 'a');
      assert.equal(r.from.params.get('tag'), '1');
      assert.equal(Array.isArray(r.contact) && r.contact.length, 1);
      assert.equal(r.body.toString(), 'abcd');
    });
  });

  describe('RFC 3261 §7.5 framing', () => {
    it('ignores CRLFs before the start line', () => {
      assert.equal(parseRequest(Buffer.concat([Buffer.from('\r\n\r\n'), wire(requestLines())])).method, 'OPTIONS');
    });

    it('refuses an empty message (a keep-alive is the transport\'s business)', () => {
      assert.equal(parseError(Buffer.from('\r\n\r\n')).canRespond, false);
      assert.equal(parseError(Buffer.alloc(0)).canRespond, false);
    });

    it('accepts a datagram whose last header line is not followed by the empty line', () => {
      const r = parseRequest(Buffer.from(requestLines().join('\r\n') + '\r\n'));
      assert.equal(r.callId, 'a84b4c76e66710@pc33.atlanta.example.com');
    });

    it('refuses a datagram cut inside a header line', () => {
      assert.equal(parseError(Buffer.from(requestLines().join('\r\n'))).reason, 'Bad Request - Missing Empty Line');
    });
  });

  describe('RFC 3261 §18.3 / §20.14 body and Content-Length', () => {
    const body = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n';
    it('reads exactly Content-Length octets and ignores the rest of a datagram (RFC 4475 §3.1.1.8)', () => {
      const r = parseRequest(wire(requestLines('OPTIONS', ['Content-Length: 5']), body + 'INVITE sip:x SIP/2.0'));
      assert.equal(r.body.toString(), body.slice(0, 5));
    });

    it('takes the rest of a datagram as the body when Content-Length is missing (RFC 4475 §3.4.1)', () => {
      assert.equal(parseRequest(wire(requestLines(), body)).body.toString(), body);
    });

    it('requires Content-Length on a stream', () => {
      const e = parseError(wire(requestLines(), body), { stream: true });
      assert.equal(e.reason, 'Bad Request - Missing Content-Length');
      assert.equal(parseRequest(wire(requestLines('OPTIONS', [`l: ${body.length}`]), body), { stream: true }).body.toString(), body);
    });

    it('answers 400 when Content-Length exceeds the octets received (RFC 4475 §3.1.2.2)', () => {
      const e = parseError(wire(requestLines('OPTIONS', ['Content-Length: 9999']), body));
      assert.equal(e.status, 400);
      assert.equal(e.reason, 'Bad Request - Content-Length Exceeds Message');
      assert.equal(e.canRespond, true);
    });

    for (const v of ['-999', '1e3', '0x10', '', '99999999999999999999']) {
      it(`answers 400 to Content-Length "${v}" (RFC 4475 §3.1.2.3)`, () => {
        assert.equal(parseError(wire(requestLines('OPTIONS', [`Content-Length: ${v}`]))).reason, 'Bad Request - Malformed Content-Length');
      });
    }

    it('copies the body, so reusing the receive buffer cannot change it', () => {
      const data = wire(requestLines('OPTIONS', ['Content-Length: 4']), 'abcd');
      const r = parseRequest(data);
      data.fill(0x41);
      assert.equal(r.body.toString(), 'abcd');
    });
  });

  describe('RFC 3261 §8.1.1 mandatory fields and single-valued fields', () => {
    for (const name of ['Via', 'From', 'To', 'Call-ID', 'CSeq']) {
      it(`answers 400 "Missing ${name}" to a request without ${name}`, () => {
        const e = parseError(wire(requestLines().filter((l) => !l.startsWith(name + ':'))));
        assert.equal(e.status, 400);
        assert.equal(e.reason, `Bad Request - Missing ${name}`);
      });
    }

    it('tolerates a missing Max-Forwards (RFC 2543 peers, RFC 4475 §3.4.1)', () => {
      assert.equal(parseRequest(wire(requestLines().filter((l) => !l.startsWith('Max-Forwards')))).maxForwards, undefined);
    });

    for (const [name, second] of [
      ['CSeq', 'CSeq: 59 OPTIONS'],
      ['Call-ID', 'i: other@192.0.2.2'],
      ['From', 'From: sip:caller@example.net;tag=2923420123'],
      ['To', 't: sip:other@example.net'],
      ['Max-Forwards', 'Max-Forwards: 5'],
      ['Content-Length', 'l: 0'],
      ['Content-Type', 'c: text/plain'],
    ] as const) {
      it(`answers 400 "Duplicate ${name}" to two ${name} fields (RFC 4475 §3.3.8, §3.3.9)`, () => {
        const extra = name === 'Content-Length' ? ['Content-Length: 0', second] : name === 'Content-Type' ? ['Content-Type: text/plain', second] : [second];
        const e = parseError(wire(requestLines('OPTIONS', extra)));
        assert.equal(e.reason, `Bad Request - Duplicate ${name}`);
      });
    }

    it('answers 400 when the CSeq method differs from the request method (RFC 4475 §3.1.2.17)', () => {
      const lines = requestLines().map((l) => (l.startsWith('CSeq') ? 'CSeq: 8 INVITE' : l));
      assert.equal(parseError(wire(lines)).reason, 'Bad Request - CSeq Method Mismatch');
    });

    it('compares the CSeq method case-sensitively (methods are case-sensitive, §7.1)', () => {
      const lines = requestLines().map((l) => (l.startsWith('CSeq') ? 'CSeq: 8 options' : l));
      assert.equal(parseError(wire(lines)).reason, 'Bad Request - CSeq Method Mismatch');
    });

    for (const [name, line] of [
      ['Max-Forwards', 'Max-Forwards: 256'],
      ['Max-Forwards', 'Max-Forwards: -1'],
      ['CSeq', 'CSeq: 36893488147419103232 OPTIONS'],
      ['Call-ID', 'Call-ID: has space'],
      ['From', 'From: "unterminated <sip:a@b.com>'],
      ['To', 'To: <sip:a@b.com'],
    ] as const) {
      it(`answers 400 "Malformed ${name}" to "${line}"`, () => {
        const lines = requestLines().filter((l) => !l.startsWith(name + ':'));
        lines.push(line);
        assert.equal(parseError(wire(lines)).reason, `Bad Request - Malformed ${name}`);
      });
    }
  });

  describe('RFC 3261 §20.10 Contact', () => {
    it('accepts "*" alone in a REGISTER (§10.2.2)', () => {
      const lines = requestLines('REGISTER', ['Contact: *', 'Expires: 0']);
      assert.equal(parseRequest(wire(lines)).contact, '*');
    });

    it('answers 400 to "*" with other contacts, or outside REGISTER', () => {
      assert.equal(parseError(wire(requestLines('REGISTER', ['Contact: *', 'Contact: <sip:a@b.com>']))).reason, 'Bad Request - Malformed Contact');
      assert.equal(parseError(wire(requestLines('REGISTER', ['Contact: <sip:a@b.com>', 'Contact: *']))).reason, 'Bad Request - Malformed Contact');
      assert.equal(parseError(wire(requestLines('INVITE', ['Contact: *']))).reason, 'Bad Request - Malformed Contact');
    });

    it('concatenates Contact fields and comma lists in order', () => {
      const r = parseRequest(wire(requestLines('REGISTER', ['Contact: <sip:a@h1.example.com>;q=0.7, "B" <sip:b@h2.example.com>', 'm: sip:c@h3.example.com;expires=60'])));
      assert.ok(Array.isArray(r.contact));
      assert.deepEqual(r.contact.map(userOf), ['a', 'b', 'c']);
      assert.equal(r.contact[2].params.get('expires'), '60');
    });

    it('answers 400 to an addr-spec Contact with an escaped header (RFC 4475 §3.1.2.13, our reading)', () => {
      const e = parseError(wire(requestLines('REGISTER', ['Contact: sip:user@example.com?Route=%3Csip:sip.example.com%3E'])));
      assert.equal(e.reason, 'Bad Request - Malformed Contact');
    });
  });

  describe('UTF-8 (RFC 3261 §7.3.1: TEXT-UTF8)', () => {
    it('decodes UTF-8 in display names and unknown header values', () => {
      const r = parseRequest(wire(requestLines('OPTIONS', ['Subject: 大停電']).map((l) => (l.startsWith('From') ? 'From: "Jérôme" <sip:j@example.com>;tag=1' : l))));
      assert.equal(r.from.displayName, 'Jérôme');
      assert.equal(r.headers.get('Subject'), '大停電');
    });

    it('finds the body by octets, not characters, after multi-byte headers', () => {
      const r = parseRequest(wire(requestLines('OPTIONS', ['Subject: ééé', 'Content-Length: 3']), 'xyzTRAILING'));
      assert.equal(r.body.toString(), 'xyz');
    });
  });

  it('throws only SipParseError for malformed input', () => {
    for (const data of ['garbage', 'INVITE', 'SIP/2.0', '\u0000\u0001\r\n\r\n', ': :\r\n\r\n']) {
      assert.throws(() => parseMessage(Buffer.from(data), { stream: false }), SipParseError);
    }
  });
});
