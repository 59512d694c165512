import assert from 'node:assert/strict';
import { nullLogger } from '../../../gateway/log/logger';
import { parseMessage } from '../../../gateway/sip/message/parser';
import type { SipResponse } from '../../../gateway/sip/message/message';
import { SipStack, targetForUri } from '../../../gateway/sip/stack';
import type { ReceivedInfo, SendTarget, TransportUser } from '../../../gateway/sip/transport/types';
import { parseUri } from '../../../gateway/sip/message/uri';

/** A transport that records what the stack sends. */
class RecordingTransport {
  sent: Array<{ target: SendTarget; text: string }> = [];
  user?: TransportUser;
  setUser(u: TransportUser): void {
    this.user = u;
  }
  async send(target: SendTarget, data: Buffer): Promise<void> {
    this.sent.push({ target, text: data.toString('latin1') });
  }
}

const udp: ReceivedInfo = { protocol: 'UDP', remote: { address: '192.0.2.7', port: 40000 }, local: { address: '127.0.0.1', port: 5060 } };

function options(branch: string, extra = ''): Buffer {
  return Buffer.from(
    'OPTIONS sip:gw.example.com SIP/2.0\r\n' +
      `Via: SIP/2.0/UDP 192.0.2.7:5062;rport;branch=${branch}\r\n` +
      'Max-Forwards: 70\r\nTo: <sip:gw.example.com>\r\nFrom: <sip:a@example.com>;tag=1\r\n' +
      `Call-ID: c-${branch}\r\nCSeq: 1 OPTIONS\r\n${extra}Content-Length: 0\r\n\r\n`,
  );
}

describe('SipStack: transport → parser → transactions → core', () => {
  let t: RecordingTransport;
  let stack: SipStack;
  beforeEach(() => {
    t = new RecordingTransport();
    stack = new SipStack(t, { log: nullLogger, product: 'test' });
  });
  afterEach(() => stack.transactions.close());

  describe('RFC 3261 §8.2.7 stateless OPTIONS', () => {
    it('answers 200 with Allow, Accept, Supported to the rport address, and leaves no transaction', async () => {
      stack.onMessage(options('z9hG4bK1'), udp);
      await new Promise((r) => setImmediate(r));
      assert.equal(t.sent.length, 1);
      assert.match(t.sent[0].text, /^SIP\/2\.0 200 OK\r\n/);
      assert.match(t.sent[0].text, /\r\nAllow: [^\r]*OPTIONS/);
      assert.match(t.sent[0].text, /\r\nAccept: [^\r]*application\/sdp/);
      assert.match(t.sent[0].text, /\r\nSupported:/);
      assert.match(t.sent[0].text, /;received=192\.0\.2\.7/);
      assert.deepEqual(t.sent[0].target.remote, { address: '192.0.2.7', port: 40000 });
      assert.equal(stack.transactions.size, 0);
    });

    it('gives a retransmission the same To tag', async () => {
      stack.onMessage(options('z9hG4bK2'), udp);
      stack.onMessage(options('z9hG4bK2'), udp);
      stack.onMessage(options('z9hG4bK3'), udp);
      await new Promise((r) => setImmediate(r));
      const tags = t.sent.map((s) => /\r\nTo: [^\r]*;tag=([^;\r]+)/.exec(s.text)?.[1]);
      assert.equal(tags[0], tags[1]);
      assert.notEqual(tags[0], tags[2]);
    });

    it('still inspects the request: an unknown Require gets 420', async () => {
      stack.onMessage(options('z9hG4bK4', 'Require: foo\r\n'), udp);
      await new Promise((r) => setImmediate(r));
      assert.match(t.sent[0].text, /^SIP\/2\.0 420 Bad Extension\r\n/);
      assert.match(t.sent[0].text, /\r\nUnsupported: foo\r\n/);
    });
  });

  describe('RFC 3261 §8.2 / RFC 4475 refusals', () => {
    it('answers an unparseable request that has a usable Via with 400 naming the fault', async () => {
      stack.onMessage(options('z9hG4bK5', 'CSeq: 2 OPTIONS\r\n'), udp);
      await new Promise((r) => setImmediate(r));
      assert.equal(t.sent.length, 1);
      assert.match(t.sent[0].text, /^SIP\/2\.0 400 Bad Request - \S+/);
      assert.equal(stack.stats.parseErrors[400], 1);
    });

    it('drops and counts garbage it cannot answer', () => {
      stack.onMessage(Buffer.from('\x16\x03\x01 not sip at all\r\n\r\n'), udp);
      assert.equal(t.sent.length, 0);
      assert.equal(stack.stats.dropped, 1);
    });

    it('gives a recognised but unimplemented method 501 through a transaction', async () => {
      const msg = options('z9hG4bK6').toString('latin1').replace(/OPTIONS/g, 'SUBSCRIBE');
      stack.onMessage(Buffer.from(msg, 'latin1'), udp);
      await new Promise((r) => setImmediate(r));
      assert.match(t.sent[0].text, /^SIP\/2\.0 501 Not Implemented\r\n/);
      assert.equal(stack.transactions.size, 1, 'the non-INVITE server transaction absorbs retransmissions (Timer J)');
    });
  });

  describe('RFC 3263 §4 / RFC 3261 §26.2.2 target selection', () => {
    it('maps sips: and transport=tls to TLS only, at port 5061 by default', () => {
      assert.deepEqual(targetForUri(parseUri('sips:bob@192.0.2.1')), { protocol: 'TLS', remote: { address: '192.0.2.1', port: 5061 } });
      assert.equal(targetForUri(parseUri('sip:bob@192.0.2.1;transport=tls')).protocol, 'TLS');
      assert.equal(targetForUri(parseUri('sip:bob@[2001:db8::1]:5070;transport=tcp')).remote.address, '2001:db8::1');
      assert.throws(() => targetForUri(parseUri('sips:bob@192.0.2.1;transport=udp')));
    });

    it('never sends a response object it did not build', () => {
      const res = parseMessage(Buffer.from('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:b@b>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n'), { stream: false }) as SipResponse;
      stack.onMessage(Buffer.from('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:b@b>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n'), udp);
      assert.equal(res.status, 200);
      assert.equal(t.sent.length, 0, 'a stray response is dropped, not answered');
    });
  });
});
