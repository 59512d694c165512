/**
 * Digest toward a trunk (RFC 3261 §22.2, §22.3; RFC 7616): answering 401/407 on the B2BUA's
 * INVITE, non-INVITE requests retried once, and registration with refresh (RFC 3261 §10.2).
 * The PBX side is our own DigestServer, so every credential sent is verified for real.
 */
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { computeHA1, DigestServer } from '../../gateway/sip/digest';
import { HeaderList, SipRequest, type SipResponse } from '../../gateway/sip/message/message';
import { parseUri } from '../../gateway/sip/message/uri';
import type { Trunk } from '../../gateway/trunk/types';
import { harness, udpTrunk } from './harness';

const REALM = 'asterisk';
const PASSWORD = 'Trunk-Pw-42';

function pbx(): { server: DigestServer; lookup: (u: string, r: string, h: 'MD5' | 'SHA-256' | 'SHA-512-256') => string | undefined } {
  return {
    server: new DigestServer({ algorithms: ['SHA-256', 'MD5'] }),
    lookup: (u, r, h) => (u === 'ciphergate' && r === REALM ? computeHA1(h, u, r, PASSWORD) : undefined),
  };
}

function invite(): SipRequest {
  return new SipRequest({
    method: 'INVITE',
    uri: parseUri('sip:+33140000001@127.0.0.1:5090;user=phone'),
    via: [{ protocol: 'SIP/2.0', transport: 'UDP', host: '127.0.0.1', port: 5070, params: new Map([['branch', 'z9hG4bKfirst'], ['rport', null]]) }],
    from: { uri: parseUri('sip:+33140000002@127.0.0.1'), params: new Map([['tag', 'ft']]) },
    to: { uri: parseUri('sip:+33140000001@127.0.0.1'), params: new Map() },
    callId: 'call-1',
    cseq: { seq: 7, method: 'INVITE' },
    maxForwards: 70,
    headers: new HeaderList(),
    body: Buffer.from('v=0\r\n'),
  });
}

function challenge(h: ReturnType<typeof harness>, req: SipRequest, status: 401 | 407, server: DigestServer): SipResponse {
  return h.answer(req, status, status === 401 ? 'Unauthorized' : 'Proxy Authentication Required', (r) => {
    for (const v of server.challenge({ realm: REALM, proxy: status === 407 })) r.headers.add(status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate', v);
  });
}

const withAuth = udpTrunk('pbx', { auth: { username: 'ciphergate', password: PASSWORD, realm: REALM }, keepAlive: { intervalSec: 0 } });

describe('Trunks: digest toward the PBX (RFC 3261 §22.2)', () => {
  describe('answerChallenge() for the B2BUA INVITE', () => {
    it('re-sends with CSeq+1, same Call-ID and From tag, no branch, and credentials the PBX accepts (401)', () => {
      const h = harness([withAuth]);
      const { server, lookup } = pbx();
      const trunk = h.manager.get('pbx') as Trunk;
      const first = invite();
      const res = h.answer(first, 401, 'Unauthorized', (r) => {
        for (const v of server.challenge({ realm: REALM })) r.headers.add('WWW-Authenticate', v);
      });
      const next = h.manager.answerChallenge(trunk, first, res);
      assert.ok(next);
      assert.equal(next.cseq.seq, 8);
      assert.equal(next.cseq.method, 'INVITE');
      assert.equal(next.callId, 'call-1');
      assert.equal(next.from.params.get('tag'), 'ft');
      assert.equal(next.via[0].params.has('branch'), false);
      assert.ok(next.via[0].params.has('rport'));
      assert.deepEqual(next.body, first.body);
      const verdict = server.verify({ method: 'INVITE', credentials: next.headers.getAll('Authorization'), realm: REALM, lookup });
      assert.equal(verdict.status, 'ok');
    });

    it('answers a 407 with Proxy-Authorization (Asterisk challenges as a proxy)', () => {
      const h = harness([withAuth]);
      const { server, lookup } = pbx();
      const first = invite();
      const next = h.manager.answerChallenge(h.manager.get('pbx') as Trunk, first, challenge(h, first, 407, server));
      assert.ok(next);
      assert.equal(next.headers.has('Authorization'), false);
      assert.equal(server.verify({ method: 'INVITE', credentials: next.headers.getAll('Proxy-Authorization'), realm: REALM, lookup }).status, 'ok');
    });

    it('gives up when the PBX rejects the credentials it was just given (no loop, no lockout)', () => {
      const h = harness([withAuth]);
      const { server } = pbx();
      const trunk = h.manager.get('pbx') as Trunk;
      const first = invite();
      const second = h.manager.answerChallenge(trunk, first, challenge(h, first, 401, server));
      assert.ok(second);
      second.via[0].params.set('branch', 'z9hG4bKsecond');
      assert.equal(h.manager.answerChallenge(trunk, second, challenge(h, second, 401, server)), undefined);
    });

    it('gives up on a challenge for another realm than the configured one', () => {
      const h = harness([withAuth]);
      const first = invite();
      const other = new DigestServer();
      const res = h.answer(first, 401, 'Unauthorized', (r) => {
        for (const v of other.challenge({ realm: 'evil' })) r.headers.add('WWW-Authenticate', v);
      });
      assert.equal(h.manager.answerChallenge(h.manager.get('pbx') as Trunk, first, res), undefined);
    });

    it('gives up when the trunk has no credentials', () => {
      const h = harness([udpTrunk('open', { keepAlive: { intervalSec: 0 } })]);
      const first = invite();
      assert.equal(h.manager.answerChallenge(h.manager.get('open') as Trunk, first, challenge(h, first, 401, pbx().server)), undefined);
    });

    it('works from an HA1 without the password', () => {
      const ha1 = computeHA1('MD5', 'ciphergate', REALM, PASSWORD);
      const h = harness([udpTrunk('pbx', { auth: { username: 'ciphergate', ha1, realm: REALM }, keepAlive: { intervalSec: 0 } })]);
      const { lookup } = pbx();
      const server = new DigestServer({ algorithms: ['MD5'] });
      const first = invite();
      const next = h.manager.answerChallenge(h.manager.get('pbx') as Trunk, first, challenge(h, first, 401, server));
      assert.ok(next);
      assert.equal(server.verify({ method: 'INVITE', credentials: next.headers.getAll('Authorization'), realm: REALM, lookup }).status, 'ok');
    });

    it('authorize() adds credentials to a later in-dialog request with the next nonce count', () => {
      const h = harness([withAuth]);
      const { server, lookup } = pbx();
      const trunk = h.manager.get('pbx') as Trunk;
      const first = invite();
      const next = h.manager.answerChallenge(trunk, first, challenge(h, first, 401, server));
      assert.ok(next);
      assert.equal(server.verify({ method: 'INVITE', credentials: next.headers.getAll('Authorization'), realm: REALM, lookup }).status, 'ok');
      const bye = invite();
      bye.method = 'BYE';
      bye.cseq = { seq: 9, method: 'BYE' };
      h.manager.authorize(trunk, bye);
      const verdict = server.verify({ method: 'BYE', credentials: bye.headers.getAll('Authorization'), realm: REALM, lookup });
      assert.equal(verdict.status, 'ok');
      assert.equal(verdict.status === 'ok' && verdict.nc, 2);
    });

    it('answers a new challenge to credentials authorize() volunteered (expired nonce), once', () => {
      const h = harness([withAuth]);
      const { server, lookup } = pbx();
      const trunk = h.manager.get('pbx') as Trunk;
      const first = invite();
      assert.ok(h.manager.answerChallenge(trunk, first, challenge(h, first, 401, server)));
      const reinvite = invite();
      reinvite.cseq = { seq: 20, method: 'INVITE' };
      h.manager.authorize(trunk, reinvite);
      assert.ok(reinvite.headers.has('Authorization'));
      const answered = h.manager.answerChallenge(trunk, reinvite, challenge(h, reinvite, 401, server));
      assert.ok(answered, 'a volunteered nonce that expired must not read as a wrong password');
      assert.equal(server.verify({ method: 'INVITE', credentials: answered.headers.getAll('Authorization'), realm: REALM, lookup }).status, 'ok');
      answered.via[0].params.set('branch', 'z9hG4bKthird');
      assert.equal(h.manager.answerChallenge(trunk, answered, challenge(h, answered, 401, server)), undefined);
    });

    it('never shows the password or an HA1 when a trunk is logged or inspected', () => {
      const ha1 = computeHA1('SHA-256', 'ciphergate', REALM, PASSWORD);
      const h = harness([withAuth, udpTrunk('h', { auth: { username: 'u', ha1, ha1Algorithm: 'SHA-256', realm: REALM } })]);
      for (const name of ['pbx', 'h']) {
        const t = h.manager.get(name);
        const text = inspect(t, { depth: 10, showHidden: true }) + JSON.stringify(t);
        assert.doesNotMatch(text, new RegExp(PASSWORD));
        assert.ok(!text.includes(ha1));
      }
    });
  });

  describe('sendRequest(): non-INVITE with one retry', () => {
    it('answers one 401 and resolves with the final response of the retry', async () => {
      const h = harness([withAuth]);
      const { server, lookup } = pbx();
      const trunk = h.manager.get('pbx') as Trunk;
      const bye = invite();
      bye.method = 'BYE';
      bye.cseq = { seq: 2, method: 'BYE' };
      bye.via[0].params.delete('branch');
      const done = h.manager.sendRequest(trunk, bye);
      challenge(h, h.sent('BYE')[0], 401, server);
      await h.settle();
      const retry = h.sent('BYE')[1];
      assert.ok(retry, 'no retry was sent');
      assert.equal(retry.cseq.seq, 3);
      assert.equal(server.verify({ method: 'BYE', credentials: retry.headers.getAll('Authorization'), realm: REALM, lookup }).status, 'ok');
      h.answer(retry, 200);
      assert.equal((await done).status, 200);
    });

    it('resolves with the second 401 instead of trying again', async () => {
      const h = harness([withAuth]);
      const { server } = pbx();
      const bye = invite();
      bye.method = 'BYE';
      bye.cseq = { seq: 2, method: 'BYE' };
      bye.via[0].params.delete('branch');
      const done = h.manager.sendRequest(h.manager.get('pbx') as Trunk, bye);
      challenge(h, h.sent('BYE')[0], 401, server);
      await h.settle();
      challenge(h, h.sent('BYE')[1], 401, server);
      assert.equal((await done).status, 401);
      assert.equal(h.sent('BYE').length, 2);
    });
  });
});
