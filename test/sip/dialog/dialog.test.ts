/** RFC 3261 §12: dialog creation, requests within a dialog, CSeq checks. */
import assert from 'node:assert/strict';
import { Dialog, dialogKey, DialogCreationError, DialogTerminatedError, MAX_ROUTE_SET } from '../../../gateway/sip/dialog';
import { parseNameAddr, parseUri, serializeUri } from '../../../gateway/sip/message/grammar';
import { HeaderList, makeResponse, SipRequest, tagOf } from '../../../gateway/sip/message/message';
import type { Via } from '../../../gateway/sip/message/types';

const via = (): Via => ({ protocol: 'SIP/2.0', transport: 'TLS', host: '192.0.2.1', port: 5061, params: new Map() });

function invite(o: { recordRoute?: string[]; contact?: string | null; uri?: string } = {}): SipRequest {
  const headers = new HeaderList();
  for (const rr of o.recordRoute ?? []) headers.add('Record-Route', rr);
  return new SipRequest({
    method: 'INVITE',
    uri: parseUri(o.uri ?? 'sip:bob@example.com'),
    via: [{ protocol: 'SIP/2.0', transport: 'TLS', host: 'a.example.com', params: new Map([['branch', 'z9hG4bK1']]) }],
    from: parseNameAddr('"Alice" <sip:alice@example.com>;tag=atag'),
    to: parseNameAddr('<sip:bob@example.com>'),
    callId: 'cid-1',
    cseq: { seq: 7, method: 'INVITE' },
    maxForwards: 70,
    ...(o.contact !== null && { contact: [parseNameAddr(o.contact ?? '<sip:alice@198.51.100.7:5061;transport=tls>')] }),
    headers,
  });
}

describe('RFC 3261 §12 dialogs', () => {
  describe('§12.1.1 UAS dialog', () => {
    it('MUST take the route set from Record-Route in order and the remote target from Contact', () => {
      const req = invite({ recordRoute: ['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>'] });
      const d = Dialog.asUas(req, 'btag');
      assert.deepEqual(d.routeSet.map((r) => serializeUri(r.uri)), ['sip:p1.example.com;lr', 'sip:p2.example.com;lr']);
      assert.equal(serializeUri(d.remoteTarget), 'sip:alice@198.51.100.7:5061;transport=tls');
      assert.equal(d.remoteSeq, 7);
      assert.equal(d.localTag, 'btag');
      assert.equal(d.remoteTag, 'atag');
      assert.equal(d.state, 'early');
      assert.equal(d.id, dialogKey('cid-1', 'btag', 'atag'));
    });

    it('MUST set the secure flag only for a sips Request-URI over TLS', () => {
      assert.equal(Dialog.asUas(invite({ uri: 'sips:bob@example.com' }), 't', { overTls: true }).secure, true);
      assert.equal(Dialog.asUas(invite({ uri: 'sips:bob@example.com' }), 't', { overTls: false }).secure, false);
      assert.equal(Dialog.asUas(invite(), 't', { overTls: true }).secure, false);
    });

    it('MUST refuse a request without a usable Contact', () => {
      assert.throws(() => Dialog.asUas(invite({ contact: null }), 't'), DialogCreationError);
    });
  });

  describe('§12.1.2 UAC dialog', () => {
    it('MUST take the route set from the response Record-Route reversed, and its Contact', () => {
      const req = invite();
      const res = makeResponse(req, 200, 'OK', 'btag');
      res.headers.add('Record-Route', '<sip:p2.example.com;lr>, <sip:p1.example.com;lr>');
      res.contact = [parseNameAddr('<sip:bob@203.0.113.9>')];
      const d = Dialog.asUac(req, res);
      assert.deepEqual(d.routeSet.map((r) => serializeUri(r.uri)), ['sip:p1.example.com;lr', 'sip:p2.example.com;lr']);
      assert.equal(serializeUri(d.remoteTarget), 'sip:bob@203.0.113.9');
      assert.equal(d.localSeq, 7);
      assert.equal(d.remoteSeq, undefined);
      assert.equal(d.state, 'confirmed');
      assert.equal(Dialog.asUac(req, Object.assign(makeResponse(req, 180, 'Ringing', 'btag'), { contact: res.contact })).state, 'early');
    });

    it('MUST refuse a response without To tag', () => {
      const res = makeResponse(invite(), 200, 'OK');
      res.contact = [parseNameAddr('<sip:bob@203.0.113.9>')];
      assert.throws(() => Dialog.asUac(invite(), res), DialogCreationError);
    });

    it('MUST bound the route set an attacker can impose', () => {
      const req = invite();
      const res = makeResponse(req, 200, 'OK', 'b');
      res.contact = [parseNameAddr('<sip:bob@203.0.113.9>')];
      res.headers.add('Record-Route', Array.from({ length: MAX_ROUTE_SET + 1 }, (_, i) => `<sip:p${i}.example.com;lr>`).join(', '));
      assert.throws(() => Dialog.asUac(req, res));
    });
  });

  describe('§12.2.1.1 requests within a dialog', () => {
    it('MUST increment the local CSeq and carry both tags, Call-ID and the loose route set', () => {
      const d = Dialog.asUas(invite({ recordRoute: ['<sip:p1.example.com;lr>'] }), 'btag');
      const first = d.localSeq;
      const bye = d.createRequest('BYE', { via: via() });
      assert.equal(bye.cseq.seq, first + 1);
      assert.equal(bye.cseq.method, 'BYE');
      assert.equal(tagOf(bye.from), 'btag');
      assert.equal(tagOf(bye.to), 'atag');
      assert.equal(bye.callId, 'cid-1');
      assert.equal(serializeUri(bye.uri), 'sip:alice@198.51.100.7:5061;transport=tls');
      assert.deepEqual(bye.headers.getAll('Route'), ['<sip:p1.example.com;lr>']);
      assert.equal(d.createRequest('INFO', { via: via() }).cseq.seq, first + 2);
    });

    it('MUST put a strict first route in the Request-URI and the remote target last in Route', () => {
      const d = Dialog.asUas(invite({ recordRoute: ['<sip:strict.example.com>', '<sip:p2.example.com;lr>'] }), 'btag');
      const bye = d.createRequest('BYE', { via: via() });
      assert.equal(serializeUri(bye.uri), 'sip:strict.example.com');
      assert.deepEqual(bye.headers.getAll('Route'), ['<sip:p2.example.com;lr>', '<sip:alice@198.51.100.7:5061;transport=tls>']);
    });

    it('MUST give the ACK for a 2xx the INVITE CSeq number and a new branch (§13.2.2.4)', () => {
      const req = invite();
      const res = makeResponse(req, 200, 'OK', 'btag');
      res.contact = [parseNameAddr('<sip:bob@203.0.113.9>')];
      const d = Dialog.asUac(req, res);
      const ack = d.createAck(7, { via: via(), body: Buffer.from('v=0\r\n') });
      assert.equal(ack.cseq.seq, 7);
      assert.equal(ack.cseq.method, 'ACK');
      assert.match(String(ack.via[0]!.params.get('branch')), /^z9hG4bK/);
      assert.equal(ack.headers.get('Content-Type'), 'application/sdp');
      assert.equal(d.localSeq, 7, 'the ACK does not consume a CSeq number');
    });

    it('MUST NOT build requests in a terminated dialog', () => {
      const d = Dialog.asUas(invite(), 'btag');
      d.terminate();
      assert.throws(() => d.createRequest('BYE', { via: via() }), DialogTerminatedError);
    });
  });

  describe('§12.2.2 requests received', () => {
    it('MUST refuse a CSeq lower than or equal to the last one, ignoring ACK and CANCEL', () => {
      const d = Dialog.asUas(invite(), 'btag');
      const req = (method: string, seq: number): SipRequest => Object.assign(invite(), { method, cseq: { seq, method } });
      assert.equal(d.receiveRequest(req('BYE', 7)), false);
      assert.equal(d.receiveRequest(req('ACK', 7)), true);
      assert.equal(d.receiveRequest(req('INFO', 8)), true);
      assert.equal(d.remoteSeq, 8);
      assert.equal(d.receiveRequest(req('INFO', 8)), false);
    });

    it('MUST replace the remote target on a target refresh', () => {
      const d = Dialog.asUas(invite(), 'btag');
      d.refreshTarget({ contact: [parseNameAddr('<sip:alice@198.51.100.8>')] });
      assert.equal(serializeUri(d.remoteTarget), 'sip:alice@198.51.100.8');
      d.refreshTarget({ contact: '*' });
      assert.equal(serializeUri(d.remoteTarget), 'sip:alice@198.51.100.8', 'an unusable Contact changes nothing');
    });
  });
});
