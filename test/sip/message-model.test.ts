import assert from 'node:assert/strict';
import { HeaderList, SipRequest, makeResponse, tagOf, topBranch } from '../../gateway/sip/message/message';

function options(): SipRequest {
  return new SipRequest({
    method: 'OPTIONS',
    uri: { scheme: 'sip', host: 'example.com', params: new Map(), headers: new Map() },
    via: [{ protocol: 'SIP/2.0', transport: 'UDP', host: '192.0.2.1', port: 5060, params: new Map([['branch', 'z9hG4bKabc']]) }],
    from: { uri: { scheme: 'sip', user: 'alice', host: 'example.com', params: new Map(), headers: new Map() }, params: new Map([['tag', 'f1']]) },
    to: { uri: { scheme: 'sip', user: 'bob', host: 'example.com', params: new Map(), headers: new Map() }, params: new Map() },
    callId: 'c1@192.0.2.1',
    cseq: { seq: 1, method: 'OPTIONS' },
    maxForwards: 70,
  });
}

describe('RFC 3261 §7 message model', () => {
  describe('HeaderList', () => {
    it('keeps fields of one name in order and matches names case-insensitively', () => {
      const h = new HeaderList();
      h.add('Record-Route', '<sip:a>');
      h.add('record-route', '<sip:b>');
      h.prepend('Record-Route', '<sip:first>');
      assert.deepEqual(h.getAll('RECORD-ROUTE'), ['<sip:first>', '<sip:a>', '<sip:b>']);
      h.set('Record-Route', '<sip:only>');
      assert.deepEqual(h.getAll('record-route'), ['<sip:only>']);
      h.remove('Record-Route');
      assert.equal(h.has('Record-Route'), false);
    });
  });

  describe('§8.2.6.2 building a response', () => {
    it('copies Via, From, Call-ID and CSeq, and adds the To tag only when asked', () => {
      const req = options();
      const trying = makeResponse(req, 100, 'Trying');
      assert.equal(tagOf(trying.to), undefined);
      const ok = makeResponse(req, 200, 'OK', 't9');
      assert.equal(tagOf(ok.to), 't9');
      assert.equal(tagOf(req.to), undefined, 'the request is not changed');
      assert.equal(topBranch(ok), 'z9hG4bKabc');
      assert.equal(ok.callId, req.callId);
      assert.deepEqual(ok.cseq, req.cseq);
    });
  });
});
