/**
 * The pure parts of blind transfer: the Refer-To check (RFC 3515 §2.1, §2.4.1), the sipfrag of a
 * NOTIFY (RFC 3420), the transferee's o= line continued across engine calls (RFC 3264 §8), and the
 * engine call ids of transferred calls.
 */
import assert from 'node:assert/strict';
import { checkReferTo } from '../../gateway/b2bua/refer';
import { sipfrag } from '../../gateway/b2bua/refer-notify';
import { callIdOfMedia, OriginContinuity, transferMediaId } from '../../gateway/b2bua/transfer-media';
import { serializeUri } from '../../gateway/sip/message/grammar';
import type { SipRequest } from '../../gateway/sip/message/message';
import { parseMessage } from '../../gateway/sip/message/parser';

function refer(...referTo: string[]): SipRequest {
  const text = [
    'REFER sip:gw@127.0.0.1 SIP/2.0', 'Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bKx1', 'From: <sip:alice@127.0.0.1>;tag=a',
    'To: <sip:gw@127.0.0.1>;tag=b', 'Call-ID: c1', 'CSeq: 5 REFER', 'Max-Forwards: 70',
    ...referTo.map((v) => `Refer-To: ${v}`), 'Content-Length: 0', '', '',
  ].join('\r\n');
  const msg = parseMessage(Buffer.from(text), { stream: true });
  assert.equal(msg.kind, 'request');
  return msg as SipRequest;
}

function refusal(req: SipRequest): [number, string] {
  const r = checkReferTo(req);
  assert.equal(r.kind, 'refuse');
  return r.kind === 'refuse' ? [r.status, r.reason] : [0, ''];
}

const SDP = (version: number, port: number): string =>
  ['v=0', `o=ciphergate 123456 ${version} IN IP4 127.0.0.1`, 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP 0`, ''].join('\r\n');

describe('Blind transfer: the pieces', () => {
  describe('RFC 3515 §2.4.1: the Refer-To of a REFER', () => {
    it('MUST take one sip: or tel: target, without the method parameter and the URI headers', () => {
      const sip = checkReferTo(refer('<sip:+34915550901@127.0.0.1;method=INVITE?Subject=hi>'));
      assert.equal(sip.kind, 'target');
      if (sip.kind === 'target') assert.equal(serializeUri(sip.uri), 'sip:+34915550901@127.0.0.1');
      const tel = checkReferTo(refer('tel:+34915550901'));
      assert.equal(tel.kind, 'target');
    });

    it('MUST answer 400 to no Refer-To, two of them, or one that does not parse', () => {
      assert.equal(refusal(refer())[0], 400);
      assert.equal(refusal(refer('<sip:a@h>', '<sip:b@h>'))[0], 400);
      assert.equal(refusal(refer('<sip:a@h>, <sip:b@h>'))[0], 400);
      assert.equal(refusal(refer('<sip:a@h'))[0], 400);
    });

    it('MUST refuse Replaces (attended transfer, RFC 3891) and methods other than INVITE with 403', () => {
      assert.deepEqual(refusal(refer('<sip:a@h?replaces=x%40y%3Bto-tag%3D1%3Bfrom-tag%3D2>')), [403, 'Forbidden - Attended Transfer Not Supported']);
      assert.equal(refusal(refer('<sip:a@h;method=BYE>'))[0], 403);
      assert.equal(refusal(refer('<sip:a@h;method>'))[0], 403);
    });

    it('MUST answer 416 to a scheme other than sip, sips, tel', () => {
      assert.equal(refusal(refer('<mailto:a@example.com>'))[0], 416);
    });
  });

  describe('RFC 3420: the NOTIFY body', () => {
    it('MUST be the status line of the new INVITE with our own reason phrase', () => {
      assert.equal(sipfrag(100), 'SIP/2.0 100 Trying\r\n');
      assert.equal(sipfrag(200), 'SIP/2.0 200 OK\r\n');
      assert.equal(sipfrag(486), 'SIP/2.0 486 Busy Here\r\n');
    });
  });

  describe('RFC 3264 §8: the transferee keeps its session across engine calls', () => {
    it('MUST keep user, session id and address, and raise the version only when the description changes', () => {
      const o = OriginContinuity.of(SDP(7, 4000))!;
      const fresh = SDP(0, 5000).replace('o=ciphergate 123456 0', 'o=ciphergate 999 0');
      const first = o.rewrite(fresh);
      assert.match(first, /^o=ciphergate 123456 8 IN IP4 127\.0\.0\.1\r$/m);
      assert.ok(first.includes('m=audio 5000 '));
      assert.match(o.rewrite(fresh.replace('999 0', '999 1')), /^o=ciphergate 123456 8 /m, 'same description, same version');
      assert.match(o.rewrite(fresh.replace('5000', '5002')), /^o=ciphergate 123456 9 /m);
    });

    it('MUST give up (no rewriting) without a usable o= line', () => {
      assert.equal(OriginContinuity.of(undefined), undefined);
      assert.equal(OriginContinuity.of('v=0\r\ns=-\r\n'), undefined);
      assert.equal(OriginContinuity.of('v=0\r\no=a b c IN IP4 1.2.3.4\r\n'), undefined);
    });
  });

  describe('engine call ids', () => {
    it('MUST map a transferred call\'s engine id back to its call', () => {
      assert.equal(callIdOfMedia(transferMediaId('AbC-_1', 2)), 'AbC-_1');
      assert.equal(callIdOfMedia('AbC-_1'), 'AbC-_1');
      assert.notEqual(transferMediaId('x', 1), transferMediaId('x', 2));
    });
  });
});
