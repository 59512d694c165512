import { strict as assert } from 'node:assert';
import { SipParseError } from '../../../gateway/sip/message/errors';
import type { OtherUri, SipUri, TelUri } from '../../../gateway/sip/message/types';
import { parseUri, serializeUri, unescapeUriPart } from '../../../gateway/sip/message/uri';

function sip(text: string): SipUri {
  const u = parseUri(text);
  assert.ok(u.scheme === 'sip' || u.scheme === 'sips', `expected a SIP URI for ${text}`);
  return u as SipUri;
}

function rejects(text: string): void {
  assert.throws(() => parseUri(text), (e: unknown) => e instanceof SipParseError && e.status === 400, text);
}

describe('URIs', () => {
  describe('RFC 3261 §19.1.1 SIP and SIPS URI components', () => {
    it('reads user, password, host, port, parameters and headers', () => {
      const u = sip('sips:alice:secretword@atlanta.com:5061;transport=TCP;lr?subject=project%20x&priority=urgent');
      assert.equal(u.scheme, 'sips');
      assert.equal(u.user, 'alice');
      assert.equal(u.password, 'secretword');
      assert.equal(u.host, 'atlanta.com');
      assert.equal(u.port, 5061);
      assert.deepEqual([...u.params], [['transport', 'TCP'], ['lr', null]]);
      assert.deepEqual([...u.headers], [['subject', 'project%20x'], ['priority', 'urgent']]);
    });

    it('leaves absent components absent', () => {
      const u = sip('sip:atlanta.com');
      assert.equal(u.user, undefined);
      assert.equal(u.port, undefined);
      assert.equal('password' in u, false);
      assert.equal(u.params.size, 0);
      assert.equal(u.headers.size, 0);
    });

    it('lower-cases the scheme and parameter names but keeps values as received', () => {
      const u = sip('SIP:Bob@Biloxi.COM;Transport=UDP;MAddr=239.255.255.1');
      assert.equal(u.scheme, 'sip');
      assert.equal(u.host, 'Biloxi.COM');
      assert.equal(u.params.get('transport'), 'UDP');
      assert.equal(u.params.get('maddr'), '239.255.255.1');
    });

    it('accepts telephone-subscriber users with visual separators (§19.1.6)', () => {
      const u = sip('sip:+1-212-555-1212:1234@gateway.com;user=phone');
      assert.equal(u.user, '+1-212-555-1212');
      assert.equal(u.password, '1234');
      assert.equal(u.params.get('user'), 'phone');
    });

    it('reads semicolons in the user part as part of the user (RFC 4475 §3.1.1.9)', () => {
      const u = sip('sip:user;par=u%40example.net@example.com');
      assert.equal(u.user, 'user;par=u%40example.net');
      assert.equal(u.host, 'example.com');
      assert.equal(u.params.size, 0);
    });

    it('reads the unusual but legal characters of RFC 4475 §3.1.1.2', () => {
      const u = sip("sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com");
      assert.equal(u.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
      assert.equal(u.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
      assert.equal(u.host, 'example.com');
    });

    it('accepts an empty password', () => {
      assert.equal(sip('sip:alice:@atlanta.com').password, '');
    });

    it('rejects a repeated uri-parameter as ambiguous', () => rejects('sip:a@b.com;transport=udp;transport=tcp'));
    it('rejects a repeated header name', () => rejects('sip:a@b.com?subject=x&subject=y'));
    it('rejects an empty user', () => rejects('sip:@example.com'));
    it('rejects an empty parameter name', () => rejects('sip:example.com;;lr'));
    it('rejects a parameter with an empty value', () => rejects('sip:example.com;transport='));
    it('rejects spaces anywhere', () => {
      rejects('sip:user@example.com; lr');
      rejects('sip:us er@example.com');
      rejects(' sip:user@example.com');
      rejects('sip:user@example.com ');
    });
    it('rejects angle brackets (RFC 4475 §3.1.2.7)', () => rejects('<sip:user@example.com>'));
  });

  describe('RFC 3261 §25.1 host and port', () => {
    it('reads IPv4 addresses', () => {
      const u = sip('sip:alice@192.0.2.4:5060');
      assert.equal(u.host, '192.0.2.4');
      assert.equal(u.port, 5060);
    });

    it('accepts a fully qualified name with a trailing dot', () => assert.equal(sip('sip:example.com.').host, 'example.com.'));

    it('rejects ports above 65535 and empty ports', () => {
      rejects('sip:a@example.com:65536');
      rejects('sip:a@example.com:');
      rejects('sip:a@example.com:5o6o');
      assert.equal(sip('sip:a@example.com:65535').port, 65535);
    });

    it('rejects octets above 255 and all-numeric names that are not IPv4 (RFC 5954 §4.1)', () => {
      rejects('sip:a@192.0.2.256');
      rejects('sip:a@1.2.3');
      rejects('sip:a@123');
    });

    it('rejects bad hostnames', () => {
      rejects('sip:a@-example.com');
      rejects('sip:a@example-.com');
      rejects('sip:a@exa_mple.com');
      rejects('sip:a@example..com');
      rejects('sip:a@example.123');
      rejects('sip:a@');
      rejects('sip:');
    });
  });

  describe('RFC 5118 IPv6 references', () => {
    it('keeps the brackets in host and reads the port after them', () => {
      const u = sip('sip:[2001:db8::10]:5070;transport=tcp');
      assert.equal(u.host, '[2001:db8::10]');
      assert.equal(u.port, 5070);
    });

    it('accepts the IPv4-mapped form and a full address (RFC 5118 §4.3, §4.6)', () => {
      assert.equal(sip('sip:user@[::ffff:192.0.2.128]').host, '[::ffff:192.0.2.128]');
      assert.equal(sip('sip:user@[2001:db8:0:0:1:0:0:1]').host, '[2001:db8:0:0:1:0:0:1]');
      assert.equal(sip('sip:user@[::1]').host, '[::1]');
    });

    it('rejects unbracketed, unbalanced and invalid IPv6', () => {
      rejects('sip:user@2001:db8::10');
      rejects('sip:user@[2001:db8::10');
      rejects('sip:user@2001:db8::10]');
      rejects('sip:user@[2001:db8::10::1]');
      rejects('sip:user@[1:2:3:4:5:6:7:8:9]');
      rejects('sip:user@[12345::1]');
      rejects('sip:user@[::ffff:192.0.2.300]');
      rejects('sip:user@[]');
    });
  });

  describe('RFC 3261 §19.1.2 escapes (RFC 4475 §3.1.1.3, §3.1.1.4)', () => {
    it('keeps valid escapes as received', () => {
      const u = sip('sip:sips%3Auser%40example.com@example.net');
      assert.equal(u.user, 'sips%3Auser%40example.com');
      assert.equal(u.host, 'example.net');
    });

    it('accepts escaped NULs', () => assert.equal(sip('sip:null-%00-null@example.com').user, 'null-%00-null'));

    it('rejects a % that does not start a two-hex-digit escape', () => {
      rejects('sip:%Zuser@example.com');
      rejects('sip:user%4@example.com');
      rejects('sip:user%@example.com');
      rejects('sip:example.com;p=%G1');
    });

    it('unescapes for comparison, as UTF-8', () => {
      assert.equal(unescapeUriPart('%75se%72'), 'user');
      assert.equal(unescapeUriPart('caf%C3%A9'), 'café');
      assert.equal(unescapeUriPart('100%'), '100%');
    });
  });

  describe('RFC 3966 tel URIs', () => {
    it('reads a global number and its parameters', () => {
      const u = parseUri('tel:+1-201-555-0123;ext=1234;isub=5') as TelUri;
      assert.equal(u.scheme, 'tel');
      assert.equal(u.number, '+1-201-555-0123');
      assert.deepEqual([...u.params], [['ext', '1234'], ['isub', '5']]);
    });

    it('reads a local number with its required phone-context', () => {
      const u = parseUri('TEL:7042;Phone-Context=example.com') as TelUri;
      assert.equal(u.scheme, 'tel');
      assert.equal(u.number, '7042');
      assert.equal(u.params.get('phone-context'), 'example.com');
    });

    it('rejects a local number without phone-context (RFC 3966 §5.1.5)', () => rejects('tel:7042'));
    it('rejects a number without digits', () => {
      rejects('tel:+');
      rejects('tel:+--');
      rejects('tel:');
    });
    it('rejects letters in a global number', () => rejects('tel:+1-800-FLOWERS'));
  });

  describe('RFC 3261 §19.1 other absoluteURIs (RFC 4475 §3.3.2, §3.3.3, §3.3.4)', () => {
    it('keeps unknown schemes opaque', () => {
      assert.deepEqual(parseUri('nobodyKnowsThisScheme:totallyopaquecontent'), {
        scheme: 'nobodyknowsthisscheme',
        opaque: 'totallyopaquecontent',
      });
      assert.deepEqual(parseUri('soap.beep://192.0.2.103:3002') as OtherUri, { scheme: 'soap.beep', opaque: '//192.0.2.103:3002' });
      assert.equal((parseUri('http://www.example.com') as OtherUri).opaque, '//www.example.com');
      assert.equal((parseUri('urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6') as OtherUri).scheme, 'urn');
    });

    it('rejects invalid schemes and characters outside uric', () => {
      rejects('1sip:foo');
      rejects('si p:foo');
      rejects('noscheme');
      rejects('x:');
      rejects('x:a b');
      rejects('x:<a>');
      rejects('x:a"b');
    });
  });

  describe('serializeUri', () => {
    for (const text of [
      'sip:alice@atlanta.com',
      'sips:alice:pw@atlanta.com:5061;transport=tcp;lr?subject=x&h=',
      'sip:[2001:db8::10]:5070;maddr=[2001:db8::1]',
      'sip:user;par=u%40example.net@example.com',
      'tel:+1-201-555-0123;ext=1234',
      'urn:service:sos',
    ]) {
      it(`writes back ${text} as received`, () => assert.equal(serializeUri(parseUri(text)), text));
    }

    it('round-trips to an equal URI', () => {
      const u = parseUri('SIP:Alice@Example.COM:5060;Transport=TLS');
      assert.deepEqual(parseUri(serializeUri(u)), u);
    });
  });
});
