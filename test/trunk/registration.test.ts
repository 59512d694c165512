/**
 * Registration of the gateway to a PBX (RFC 3261 §10.2) on a fake clock: digest (§22.2), the
 * granted expiry (§10.2.4), refresh before it runs out, one Call-ID with increasing CSeq,
 * 423 Interval Too Brief (§10.2.8), retries after failure, un-REGISTER on stop.
 */
import assert from 'node:assert/strict';
import { computeHA1, DigestServer } from '../../gateway/sip/digest';
import type { SipRequest } from '../../gateway/sip/message/message';
import { grantedExpires } from '../../gateway/trunk/registration';
import { harness, udpTrunk } from './harness';

const REALM = 'pbx.example';
const PASSWORD = 'Reg-Pw-77';
const lookup = (u: string, r: string, h: 'MD5' | 'SHA-256' | 'SHA-512-256'): string | undefined =>
  u === 'gw' && r === REALM ? computeHA1(h, u, r, PASSWORD) : undefined;

const registering = udpTrunk('pbx', {
  auth: { username: 'gw', password: PASSWORD, realm: REALM },
  register: { enabled: true, expiresSec: 600 },
  keepAlive: { intervalSec: 0 },
});

function registers(h: ReturnType<typeof harness>): SipRequest[] {
  return h.sent('REGISTER');
}

/** Plays the PBX registrar once: 401 without credentials, 200 granting `expires` with them. */
async function pbxAnswer(h: ReturnType<typeof harness>, server: DigestServer, expires: number): Promise<void> {
  const req = registers(h).at(-1) as SipRequest;
  const auth = req.headers.getAll('Authorization');
  if (auth.length === 0) {
    h.answer(req, 401, 'Unauthorized', (r) => {
      for (const v of server.challenge({ realm: REALM })) r.headers.add('WWW-Authenticate', v);
    });
    await h.settle();
    return pbxAnswer(h, server, expires);
  }
  assert.equal(server.verify({ method: 'REGISTER', credentials: auth, realm: REALM, lookup }).status, 'ok');
  const contacts = req.contact === undefined || req.contact === '*' ? [] : req.contact;
  h.answer(req, 200, 'OK', (r) => {
    r.contact = contacts.map((c) => ({ ...c, params: new Map([['expires', String(expires)]]) }));
  });
  await h.settle();
}

describe('Trunks: registration to the PBX (RFC 3261 §10.2)', () => {
  it('registers with digest: 401, then credentials the registrar verifies, then registered', async () => {
    const h = harness([registering]);
    const server = new DigestServer();
    const granted: number[] = [];
    h.manager.on('registered', (_t, e) => granted.push(e));
    h.manager.start();
    const first = registers(h)[0];
    assert.equal(first.headers.get('Expires'), '600');
    assert.equal(first.uri.scheme, 'sip');
    await pbxAnswer(h, server, 300);
    assert.deepEqual(granted, [300]);
    assert.equal(h.manager.get('pbx')?.registered, true);
    const [a, b] = registers(h);
    assert.equal(a.callId, b.callId);
    assert.equal(b.cseq.seq, a.cseq.seq + 1);
    await h.manager.stop();
  });

  it('refreshes before the granted expiry runs out, with the same Call-ID and a higher CSeq', async () => {
    const h = harness([registering]);
    const server = new DigestServer();
    h.manager.start();
    await pbxAnswer(h, server, 300);
    const count = registers(h).length;
    h.clock.advance(239_000);
    assert.equal(registers(h).length, count, 'refreshed too early');
    h.clock.advance(1_000); // 300 - 60 s
    assert.equal(registers(h).length, count + 1, 'no refresh 60 s before expiry');
    const refresh = registers(h).at(-1) as SipRequest;
    assert.equal(refresh.callId, registers(h)[0].callId);
    assert.ok(refresh.cseq.seq > registers(h)[count - 1].cseq.seq);
    await h.manager.stop();
  });

  it('asks again with Min-Expires after 423 Interval Too Brief (§10.2.8)', async () => {
    const h = harness([registering]);
    h.manager.start();
    h.answer(registers(h)[0], 423, 'Interval Too Brief', (r) => r.headers.add('Min-Expires', '1800'));
    await h.settle();
    assert.equal(registers(h)[1].headers.get('Expires'), '1800');
    await h.manager.stop();
  });

  it('reports a failure and retries later with back-off', async () => {
    const h = harness([registering]);
    const failures: number[] = [];
    h.manager.on('registrationFailed', (_t, status) => failures.push(status));
    h.manager.start();
    h.answer(registers(h)[0], 403, 'Forbidden');
    await h.settle();
    assert.deepEqual(failures, [403]);
    assert.equal(h.manager.get('pbx')?.registered, false);
    h.clock.advance(29_999);
    assert.equal(registers(h).length, 1);
    h.clock.advance(1);
    assert.equal(registers(h).length, 2);
    await h.manager.stop();
  });

  it('removes the binding with Expires: 0 on stop', async () => {
    const h = harness([registering]);
    const server = new DigestServer();
    h.manager.start();
    await pbxAnswer(h, server, 300);
    const stopping = h.manager.stop();
    await h.settle();
    const last = registers(h).at(-1) as SipRequest;
    assert.equal(last.headers.get('Expires'), '0');
    h.answer(last, 200);
    await stopping;
    assert.equal(h.manager.get('pbx')?.registered, false);
  });

  it('reads the granted expiry from our Contact, else Expires, else what was asked', () => {
    const h = harness([registering]);
    h.manager.start();
    const req = registers(h)[0];
    const res = h.answer(req, 200, 'OK', (r) => r.headers.add('Expires', '120'));
    assert.equal(grantedExpires(res, 'sip:other@127.0.0.1', 600), 120);
    res.headers.remove('Expires');
    assert.equal(grantedExpires(res, 'sip:other@127.0.0.1', 600), 600);
    void h.manager.stop();
  });
});
