/**
 * Requests from trunks: identification by source address (and transport), optional digest
 * (RFC 3261 §22.4), and the Request-URI written toward a trunk (§19.1.6 user=phone).
 */
import assert from 'node:assert/strict';
import { DigestClient } from '../../gateway/sip/digest';
import { HeaderList, SipRequest } from '../../gateway/sip/message/message';
import { parseUri, serializeUri } from '../../gateway/sip/message/uri';
import type { ReceivedInfo, TransportProtocol } from '../../gateway/sip/transport/types';
import type { Trunk } from '../../gateway/trunk/types';
import { harness, LOCAL, udpTrunk } from './harness';

function from(address: string, protocol: TransportProtocol = 'UDP'): ReceivedInfo {
  return { protocol, remote: { address, port: 5060 }, local: LOCAL };
}

function inviteFromPbx(): SipRequest {
  return new SipRequest({
    method: 'INVITE',
    uri: parseUri('sip:+33140000001@127.0.0.1:5070'),
    via: [{ protocol: 'SIP/2.0', transport: 'UDP', host: '192.0.2.10', port: 5060, params: new Map([['branch', 'z9hG4bKpbx1']]) }],
    from: { uri: parseUri('sip:+33611111111@192.0.2.10'), params: new Map([['tag', 'p1']]) },
    to: { uri: parseUri('sip:+33140000001@127.0.0.1'), params: new Map() },
    callId: 'pbx-call-1',
    cseq: { seq: 1, method: 'INVITE' },
    maxForwards: 70,
    headers: new HeaderList(),
  });
}

describe('Trunks: inbound identification and the outbound Request-URI', () => {
  describe('identify() by source address', () => {
    const h = harness([
      udpTrunk('pbx', { host: '192.0.2.10', keepAlive: { intervalSec: 0 } }),
      udpTrunk('cluster', { host: '198.51.100.1', inbound: { addresses: ['198.51.100.0/28', '2001:db8::/64'] }, keepAlive: { intervalSec: 0 } }),
      { name: 'secure', host: '203.0.113.5', transport: 'TLS', keepAlive: { intervalSec: 0 } },
    ]);

    it('names the trunk whose host sent the request', () => {
      assert.equal(h.manager.identify(from('192.0.2.10'))?.name, 'pbx');
    });

    it('matches configured prefixes, IPv6 and IPv4-mapped IPv6 sources', () => {
      assert.equal(h.manager.identify(from('198.51.100.14'))?.name, 'cluster');
      assert.equal(h.manager.identify(from('2001:db8::7'))?.name, 'cluster');
      assert.equal(h.manager.identify(from('::ffff:192.0.2.10'))?.name, 'pbx');
    });

    it('returns undefined for any other source (a client, not a trunk)', () => {
      assert.equal(h.manager.identify(from('198.51.100.16')), undefined);
      assert.equal(h.manager.identify(from('127.0.0.1')), undefined);
    });

    it('identifies a TLS trunk over TLS only, and a UDP trunk never over TLS', () => {
      assert.equal(h.manager.identify(from('203.0.113.5', 'TLS'))?.name, 'secure');
      assert.equal(h.manager.identify(from('203.0.113.5', 'UDP')), undefined);
      assert.equal(h.manager.identify(from('192.0.2.10', 'TCP'))?.name, 'pbx');
      assert.equal(h.manager.identify(from('192.0.2.10', 'TLS')), undefined);
    });
  });

  describe('inbound digest (RFC 3261 §22.4)', () => {
    const h = harness([udpTrunk('pbx', { host: '192.0.2.10', inbound: { auth: { username: 'asterisk', password: 'In-Pw-5' } }, keepAlive: { intervalSec: 0 } })]);
    const trunk = (): Trunk => h.manager.get('pbx') as Trunk;

    it('challenges a request without credentials with 401 and a nonce for our realm', async () => {
      const r = await h.manager.authenticateInbound(trunk(), inviteFromPbx(), from('192.0.2.10'));
      assert.equal(r.ok, false);
      assert.equal(!r.ok && r.response.status, 401);
      assert.match(!r.ok ? (r.response.headers.get('WWW-Authenticate') ?? '') : '', /realm="gw\.example"/);
    });

    it('accepts the right credentials, refuses wrong ones with 403', async () => {
      const req = inviteFromPbx();
      const first = await h.manager.authenticateInbound(trunk(), req, from('192.0.2.10'));
      assert.ok(!first.ok);
      const challenges = first.response.headers.getAll('WWW-Authenticate');
      const good = new DigestClient({ username: 'asterisk', password: 'In-Pw-5' });
      const retry = inviteFromPbx();
      for (const v of good.respond({ status: 401, challenges, method: 'INVITE', uri: serializeUri(retry.uri) })) retry.headers.add(v.name, v.value);
      assert.deepEqual(await h.manager.authenticateInbound(trunk(), retry, from('192.0.2.10')), { ok: true });

      const bad = new DigestClient({ username: 'asterisk', password: 'wrong' });
      const forged = inviteFromPbx();
      for (const v of bad.respond({ status: 401, challenges, method: 'INVITE', uri: serializeUri(forged.uri) })) forged.headers.add(v.name, v.value);
      const refused = await h.manager.authenticateInbound(trunk(), forged, from('192.0.2.10'));
      assert.equal(!refused.ok && refused.response.status, 403);
    });

    it('refuses credentials computed for another Request-URI (RFC 7616 §3.4.6)', async () => {
      const first = await h.manager.authenticateInbound(trunk(), inviteFromPbx(), from('192.0.2.10'));
      assert.ok(!first.ok);
      const client = new DigestClient({ username: 'asterisk', password: 'In-Pw-5' });
      const req = inviteFromPbx();
      const challenges = first.response.headers.getAll('WWW-Authenticate');
      for (const v of client.respond({ status: 401, challenges, method: 'INVITE', uri: 'sip:+33999@127.0.0.1' })) req.headers.add(v.name, v.value);
      assert.equal((await h.manager.authenticateInbound(trunk(), req, from('192.0.2.10'))).ok, false);
    });

    it('never challenges ACK or CANCEL (§22.1), and lets trunks without inbound auth through', async () => {
      const ack = inviteFromPbx();
      ack.method = 'ACK';
      assert.deepEqual(await h.manager.authenticateInbound(trunk(), ack, from('192.0.2.10')), { ok: true });
      const open = harness([udpTrunk('open', { keepAlive: { intervalSec: 0 } })]);
      assert.deepEqual(await open.manager.authenticateInbound(open.manager.get('open') as Trunk, inviteFromPbx(), from('127.0.0.1')), { ok: true });
    });
  });

  describe('the Request-URI toward a trunk', () => {
    const h = harness([
      udpTrunk('e164', { keepAlive: { intervalSec: 0 } }),
      udpTrunk('national', { numberFormat: 'national', domain: 'pbx.example', keepAlive: { intervalSec: 0 } }),
      { name: 'tls', host: '127.0.0.1', transport: 'TLS', numberFormat: 'digits', keepAlive: { intervalSec: 0 } },
    ]);

    it('writes the number in the trunk format, user=phone, and the transport', () => {
      assert.equal(serializeUri(h.manager.requestUriFor(h.manager.get('e164') as Trunk, '+33612345678')), 'sip:+33612345678@127.0.0.1:5090;user=phone');
      assert.equal(serializeUri(h.manager.requestUriFor(h.manager.get('national') as Trunk, '+33612345678')), 'sip:0612345678@pbx.example;user=phone');
      assert.equal(serializeUri(h.manager.requestUriFor(h.manager.get('tls') as Trunk, '+33612345678')), 'sip:33612345678@127.0.0.1:5061;transport=tls;user=phone');
    });

    it('gives media policy per trunk: RTP/AVP and PCMA/PCMU by default', () => {
      const t = h.manager.get('e164') as Trunk;
      assert.deepEqual(t.media, { profile: 'RTP/AVP', codecs: ['PCMA', 'PCMU'], telephoneEvent: true });
      assert.equal(t.target.protocol, 'UDP');
    });
  });
});
