/**
 * TrunkService.sendRequest() for requests inside a dialog: they go to the hop the dialog gives
 * (RFC 3261 §8.1.2; the B2BUA decides it, b2bua/next-hop.ts), the digest retry too (§22.2), and
 * to the trunk's configured target only when no hop is given.
 */
import assert from 'node:assert/strict';
import { computeHA1, DigestServer } from '../../gateway/sip/digest';
import { HeaderList, SipRequest } from '../../gateway/sip/message/message';
import { parseUri } from '../../gateway/sip/message/uri';
import type { SendTarget } from '../../gateway/sip/transport/types';
import type { Trunk } from '../../gateway/trunk/types';
import { harness, LOCAL, udpTrunk } from './harness';

const REALM = 'asterisk';
const PASSWORD = 'Trunk-Hop-Pw-5';
const trunkConfig = udpTrunk('pbx', { auth: { username: 'ciphergate', password: PASSWORD, realm: REALM }, keepAlive: { intervalSec: 0 } });

/** A BYE inside a dialog whose remote target is the PBX's other interface. */
function bye(): SipRequest {
  return new SipRequest({
    method: 'BYE',
    uri: parseUri('sip:pbx@127.0.0.2:5092'),
    via: [{ protocol: 'SIP/2.0', transport: 'UDP', host: LOCAL.address, port: LOCAL.port, params: new Map([['rport', null]]) }],
    from: { uri: parseUri('sip:+33140000002@127.0.0.1'), params: new Map([['tag', 'ft']]) },
    to: { uri: parseUri('sip:+33140000001@127.0.0.1'), params: new Map([['tag', 'tt']]) },
    callId: 'call-hop',
    cseq: { seq: 2, method: 'BYE' },
    maxForwards: 70,
    headers: new HeaderList(),
  });
}

describe('Trunks: in-dialog requests to the dialog\'s next hop (RFC 3261 §8.1.2)', () => {
  it('sends to the given hop, and the 401 retry to the same hop (§22.2)', async () => {
    const h = harness([trunkConfig]);
    const server = new DigestServer();
    const lookup = (u: string, r: string, a: 'MD5' | 'SHA-256' | 'SHA-512-256'): string | undefined => (u === 'ciphergate' && r === REALM ? computeHA1(a, u, r, PASSWORD) : undefined);
    const trunk = h.manager.get('pbx') as Trunk;
    const hop: SendTarget = { protocol: 'UDP', remote: { address: '127.0.0.2', port: 5092 }, local: { ...LOCAL } };
    const done = h.manager.sendRequest(trunk, bye(), hop);
    const [first] = h.sender.requests('BYE');
    assert.deepEqual(first?.target, hop);
    h.answer(first!.msg as SipRequest, 401, 'Unauthorized', (r) => {
      for (const v of server.challenge({ realm: REALM })) r.headers.add('WWW-Authenticate', v);
    });
    await h.settle();
    const retry = h.sender.requests('BYE')[1];
    assert.ok(retry, 'no retry was sent');
    assert.deepEqual(retry.target, hop, 'the retry follows the dialog too');
    const credentials = (retry.msg as SipRequest).headers.getAll('Authorization');
    assert.equal(server.verify({ method: 'BYE', credentials, realm: REALM, lookup }).status, 'ok');
    h.answer(retry.msg as SipRequest, 200);
    assert.equal((await done).status, 200);
  });

  it('sends to the trunk\'s configured target when no hop is given', async () => {
    const h = harness([trunkConfig]);
    const trunk = h.manager.get('pbx') as Trunk;
    const done = h.manager.sendRequest(trunk, bye());
    const [first] = h.sender.requests('BYE');
    assert.deepEqual(first?.target, trunk.target);
    h.answer(first!.msg as SipRequest, 200);
    assert.equal((await done).status, 200);
  });
});
