import { strict as assert } from 'node:assert';
import { SipParseError } from '../../../gateway/sip/message/errors';
import {
  isCallId, parseCSeq, parseMediaType, parseNameAddr, parseNameAddrList, parseParams, parseVia, quote,
  salvageCSeq, salvageNameAddr, salvageVia, serializeNameAddr, serializeVia, splitList, unquote,
} from '../../../gateway/sip/message/grammar';
import type { SipUri } from '../../../gateway/sip/message/types';

function isBadRequest(e: unknown): boolean {
  return e instanceof SipParseError && e.status === 400;
}

describe('Header grammar (RFC 3261 §25.1)', () => {
  describe('quoted-string', () => {
    it('resolves quoted-pairs, including an escaped NUL (RFC 4475 §3.1.1.2)', () => {
      assert.equal(unquote('"J Rosenberg \\\\\\""'), 'J Rosenberg \\"');
      assert.equal(unquote('"NUL:\\\u0000"'), 'NUL:\u0000');
      assert.equal(unquote('"plain"'), 'plain');
    });

    it('quotes " and \\ and control characters, and refuses CR and LF', () => {
      assert.equal(quote('a"b\\c'), '"a\\"b\\\\c"');
      assert.equal(quote('BEL:\u0007'), '"BEL:\\\u0007"');
      assert.equal(quote('tab\there'), '"tab\there"');
      assert.throws(() => quote('a\r\nVia: evil'), isBadRequest);
    });
  });

  describe('generic-param', () => {
    it('allows SWS around ";" and "=" (RFC 4475 §3.1.1.1)', () => {
      assert.deepEqual([...parseParams(' ;   tag    = 1918181833n ; lr')], [['tag', '1918181833n'], ['lr', null]]);
    });

    it('keeps quoted values with their quotes and lower-cases names', () => {
      const p = parseParams(';+SIP.Instance="<urn:uuid:1;x>";Q=0.5');
      assert.equal(p.get('+sip.instance'), '"<urn:uuid:1;x>"');
      assert.equal(p.get('q'), '0.5');
    });

    it('accepts IPv6 values bracketed and (for received) unbracketed', () => {
      assert.equal(parseParams(';maddr=[2001:db8::1]').get('maddr'), '[2001:db8::1]');
      assert.equal(parseParams(';received=2001:db8::9:255').get('received'), '2001:db8::9:255');
    });

    it('rejects empty names, empty values and repeated names', () => {
      assert.throws(() => parseParams(';;lr'), isBadRequest);
      assert.throws(() => parseParams(';tag='), isBadRequest);
      assert.throws(() => parseParams(';tag=a;TAG=b'), isBadRequest);
      assert.throws(() => parseParams(';x="unterminated'), isBadRequest);
    });
  });

  describe('§20.10 name-addr and addr-spec', () => {
    it('reads a quoted display name, the URI and header parameters', () => {
      const a = parseNameAddr('"Alice \\"A\\"" <sip:alice@atlanta.com;transport=tcp>;tag=1928301774');
      assert.equal(a.displayName, 'Alice "A"');
      assert.equal((a.uri as SipUri).params.get('transport'), 'tcp');
      assert.equal(a.params.get('tag'), '1928301774');
    });

    it('reads token display names, with or without LWS before "<" (RFC 4475 §3.1.1.6)', () => {
      assert.equal(parseNameAddr('caller<sip:caller@example.com>;tag=323').displayName, 'caller');
      assert.equal(parseNameAddr("token1~` token2'+_ token3*%!.- <sip:mundane@example.com>").displayName, "token1~` token2'+_ token3*%!.-");
      assert.equal(parseNameAddr('<sip:a@b.com>').displayName, undefined);
      assert.equal(parseNameAddr('"" <sip:a@b.com>').displayName, '');
    });

    it('gives parameters after an addr-spec to the header, not the URI (§20.10)', () => {
      const a = parseNameAddr('sip:+19725552222@gw1.example.net;unknownparam');
      assert.equal((a.uri as SipUri).params.size, 0);
      assert.equal(a.params.get('unknownparam'), null);
      const b = parseNameAddr('<sip:+19725552222@gw1.example.net;unknownparam>');
      assert.equal((b.uri as SipUri).params.get('unknownparam'), null);
      assert.equal(b.params.size, 0);
    });

    it('allows LWS between an addr-spec and its parameters (RFC 4475 §3.1.1.1)', () => {
      const a = parseNameAddr('sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n');
      assert.equal(a.params.get('tag'), '1918181833n');
    });

    it('reads other schemes in both forms (RFC 4475 §3.3.4)', () => {
      assert.equal(parseNameAddr('isbn:2983792873').uri.scheme, 'isbn');
      assert.equal(parseNameAddr('<http://www.example.com>;tag=3234233').params.get('tag'), '3234233');
    });

    it('rejects "?" in an addr-spec: the URI must then be in <> (RFC 4475 §3.1.2.13)', () => {
      assert.throws(() => parseNameAddr('sip:user@example.com?Route=%3Csip:sip.example.com%3E'), isBadRequest);
      assert.equal((parseNameAddr('<sip:user@example.com?Route=%3Csip:sip.example.com%3E>').uri as SipUri).headers.get('Route'), '%3Csip:sip.example.com%3E');
    });

    it('rejects LWS inside <> (RFC 4475 §3.1.2.14)', () => {
      assert.throws(() => parseNameAddr('"Watson, Thomas" < sip:t.watson@example.org >'), isBadRequest);
    });

    it('rejects non-token display names (RFC 4475 §3.1.2.15)', () => {
      assert.throws(() => parseNameAddr('Bell, Alexander <sip:a.g.bell@example.com>;tag=43'), isBadRequest);
    });

    it('rejects an unterminated quoted display name (RFC 4475 §3.1.2.6)', () => {
      assert.throws(() => parseNameAddr('"Mr. J. User <sip:j.user@example.com>'), isBadRequest);
    });

    it('rejects empty parameters and trailing garbage (RFC 4475 §3.1.2.1)', () => {
      assert.throws(() => parseNameAddr('"Joe" <sip:joe@example.org>;;;;'), isBadRequest);
      assert.throws(() => parseNameAddr('<sip:joe@example.org> x'), isBadRequest);
      assert.throws(() => parseNameAddr('<sip:joe@example.org'), isBadRequest);
      assert.throws(() => parseNameAddr(''), isBadRequest);
    });

    it('splits lists on commas outside quotes and <>', () => {
      const l = parseNameAddrList('"a, b" <sip:a@x.com;p=1>, sip:b@y.com;q=0.5 ,<sip:c@z.com>');
      assert.deepEqual(l.map((a) => (a.uri as SipUri).user), ['a', 'b', 'c']);
      assert.equal(l[0].displayName, 'a, b');
      assert.equal(l[1].params.get('q'), '0.5');
      assert.throws(() => parseNameAddrList('<sip:a@x.com>,'), isBadRequest);
      assert.throws(() => parseNameAddrList('<sip:a@x.com>, <sip:b@x.com>', 1), isBadRequest);
    });

    it('writes the bracketed form with a quoted display name', () => {
      const a = parseNameAddr('caller <sip:caller@example.com;lr>;tag=323');
      assert.equal(serializeNameAddr(a), '"caller" <sip:caller@example.com;lr>;tag=323');
      assert.deepEqual(parseNameAddr(serializeNameAddr(a)), a);
    });

    it('salvages the URI and tag of a malformed value, for addressing a 400', () => {
      const s = salvageNameAddr('Bell, Alexander <sip:a.g.bell@example.com>;tag=43');
      assert.equal((s?.uri as SipUri).user, 'a.g.bell');
      assert.equal(s?.params.get('tag'), '43');
      assert.equal(salvageNameAddr('no brackets at all'), undefined);
      assert.equal(salvageNameAddr('<not a uri>'), undefined);
    });
  });

  describe('§20.42 Via', () => {
    it('reads sent-protocol, sent-by and the routing parameters', () => {
      const [v] = parseVia('SIP/2.0/UDP pc33.atlanta.com:5066;branch=z9hG4bK776asdhds;received=192.0.2.1;rport=5066;ttl=16;maddr=224.2.0.1');
      assert.equal(v.protocol, 'SIP/2.0');
      assert.equal(v.transport, 'UDP');
      assert.equal(v.host, 'pc33.atlanta.com');
      assert.equal(v.port, 5066);
      assert.equal(v.params.get('branch'), 'z9hG4bK776asdhds');
      assert.equal(v.params.get('rport'), '5066');
    });

    it('accepts a valueless rport (RFC 3581 §3) and upper-cases the transport', () => {
      const [v] = parseVia('SIP/2.0/tls client.example.com;rport;branch=z9hG4bKx');
      assert.equal(v.transport, 'TLS');
      assert.equal(v.params.get('rport'), null);
    });

    it('allows LWS around "/" and ":" and folded lists (RFC 4475 §3.1.1.1)', () => {
      const l = parseVia('SIP  / 2.0  / TCP     spindle.example.com   ; branch  =   z9hG4bK9ikj8  , SIP  /    2.0   / UDP  192.168.255.111 : 5060  ; branch= z9hG4bK30239');
      assert.equal(l.length, 2);
      assert.equal(l[0].host, 'spindle.example.com');
      assert.equal(l[1].port, 5060);
      assert.equal(l[1].params.get('branch'), 'z9hG4bK30239');
    });

    it('reads IPv6 sent-by and received (RFC 5118 §4.5)', () => {
      const [v] = parseVia('SIP/2.0/UDP [2001:db8::9:1]:5070;received=2001:db8::9:255;branch=z9hG4bKas3');
      assert.equal(v.host, '[2001:db8::9:1]');
      assert.equal(v.port, 5070);
      assert.equal(v.params.get('received'), '2001:db8::9:255');
    });

    it('keeps unknown transports (RFC 4475 §3.1.1.10)', () => {
      assert.equal(parseVia('SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en')[0].transport, 'UNKNOWN');
    });

    it('rejects malformed values', () => {
      for (const bad of [
        'SIP/2.0/UDP 192.0.2.15;;,;,,', // RFC 4475 §3.1.2.1
        'SIP/2.0/UDP',
        'SIP/2.0 UDP host.example.com',
        'SIP/2.0/UDPhost.example.com',
        'SIP/2.0/UDP host.example.com:99999',
        'SIP/2.0/UDP host.example.com;branch',
        'SIP/2.0/UDP host.example.com;received=host.example.com',
        'SIP/2.0/UDP host.example.com;ttl=256',
        'SIP/2.0/UDP host.example.com;rport=70000',
        'SIP/2.0/UDP host.example.com;maddr=bad_host',
        'SIP/2.0/UDP 2001:db8::1;branch=z9hG4bKx',
        'SIP/2.0/UDP host.example.com,',
      ]) {
        assert.throws(() => parseVia(bad), isBadRequest, bad);
      }
    });

    it('salvages sent-by and the good parameters of a malformed Via', () => {
      const v = salvageVia('SIP/2.0/UDP 192.0.2.15;branch=z9hG4bKok;;,;,,');
      assert.equal(v?.host, '192.0.2.15');
      assert.equal(v?.params.get('branch'), 'z9hG4bKok');
      assert.equal(salvageVia('garbage'), undefined);
    });

    it('writes a via-parm that reads back equal', () => {
      const [v] = parseVia('SIP/2.0/TCP [::1]:5061;branch=z9hG4bKa;rport;received=::1');
      assert.equal(serializeVia(v), 'SIP/2.0/TCP [::1]:5061;branch=z9hG4bKa;rport;received=::1');
      assert.deepEqual(parseVia(serializeVia(v)), [v]);
    });
  });

  describe('§20.16 CSeq', () => {
    it('reads leading zeros and LWS (RFC 4475 §3.1.1.1)', () => {
      assert.deepEqual(parseCSeq('0009   INVITE'), { seq: 9, method: 'INVITE' });
      assert.deepEqual(parseCSeq('4294967295 REGISTER'), { seq: 4294967295, method: 'REGISTER' });
    });

    it('rejects overlarge, negative and malformed values (RFC 4475 §3.1.2.4)', () => {
      for (const bad of ['36893488147419103232 REGISTER', '4294967296 INVITE', '-1 INVITE', 'INVITE', '1', '1INVITE', '1 IN VITE', '']) {
        assert.throws(() => parseCSeq(bad), isBadRequest, bad);
      }
    });

    it('salvages an out-of-range CSeq as text for a 400, but not garbage', () => {
      assert.deepEqual(salvageCSeq('36893488147419103232 REGISTER'), { value: '36893488147419103232 REGISTER', method: 'REGISTER' });
      assert.equal(salvageCSeq('x INVITE'), undefined);
      assert.equal(salvageCSeq('1'.repeat(40) + ' INVITE'), undefined);
    });
  });

  describe('§20.8 Call-ID', () => {
    it('accepts word [@ word] with the unusual word characters (RFC 4475 §3.1.1.2)', () => {
      assert.ok(isCallId('intmeth.word%ZK-!.*_+\'@word`~)(><:\\/"][?}{'));
      assert.ok(isCallId('a84b4c76e66710'));
    });
    it('rejects spaces, a second @, and empty words', () => {
      for (const bad of ['a b', 'a@b@c', '@b', 'a@', '', 'a;b']) assert.equal(isCallId(bad), false, bad);
    });
  });

  describe('§7.3.1 list splitting', () => {
    it('splits on commas outside quotes and <>, trimming and dropping empty elements', () => {
      assert.deepEqual(splitList('application/sdp, application/pkcs7-mime,  multipart/mixed'), ['application/sdp', 'application/pkcs7-mime', 'multipart/mixed']);
      assert.deepEqual(splitList('<sip:a@b;x=1,2>, "q,\\"uote" <sip:c@d>'), ['<sip:a@b;x=1,2>', '"q,\\"uote" <sip:c@d>']);
      assert.deepEqual(splitList(' , a,,b ,'), ['a', 'b']);
      assert.deepEqual(splitList(''), []);
    });

    it('refuses unbalanced quotes and brackets', () => {
      assert.throws(() => splitList('"a, b'), isBadRequest);
      assert.throws(() => splitList('<sip:a@b, c'), isBadRequest);
    });

    it('stops early beyond a maximum number of elements', () => {
      assert.equal(splitList('a,b,c', 2), undefined);
      assert.deepEqual(splitList('a,b', 2), ['a', 'b']);
    });
  });

  describe('§20.15 media types', () => {
    it('reads type, subtype and parameters case-insensitively', () => {
      const m = parseMediaType('Multipart/Mixed ; Boundary="7a9c bec"');
      assert.equal(m.type, 'multipart');
      assert.equal(m.subtype, 'mixed');
      assert.equal(m.params.get('boundary'), '"7a9c bec"');
    });
    it('rejects values without a subtype', () => {
      assert.throws(() => parseMediaType('application'), isBadRequest);
      assert.throws(() => parseMediaType('application/'), isBadRequest);
      assert.throws(() => parseMediaType('a/b c'), isBadRequest);
    });
  });
});
