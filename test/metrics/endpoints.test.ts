/**
 * GET /metrics, /healthz and /readyz on the real gateway's admin listener (issue 7 §3): the token
 * rule, and the counters after a scripted REGISTER (RFC 3261 §10) and call (§13, §15).
 */
import assert from 'node:assert/strict';
import { establish, hangup, waitFor } from '../b2bua/flows';
import { startLab, type CallsLab } from '../b2bua/harness';
import { SipUa, srtpSdp } from '../b2bua/sip-ua';
import { get, hasSample, sample } from './scrape';

describe('gateway/metrics on the admin listener', function () {
  this.timeout(30000);
  let lab: CallsLab;
  let url: string;
  let token: string;
  const scrape = async (): Promise<string> => {
    const r = await get(url, '/metrics', token);
    assert.equal(r.status, 200);
    return r.body;
  };

  before(async () => {
    lab = await startLab(['security.lockout.maxFailures=2']);
    url = lab.t.gw.admin.url;
    const minted = lab.t.gw.admin.initialToken;
    assert.ok(minted, 'a first start mints the admin token');
    token = minted.token;
  });
  after(async () => {
    await lab?.stop();
  });

  describe('GET /metrics (RFC 6750 §2.1 bearer token)', () => {
    it('MUST refuse a scrape without the admin token (401, WWW-Authenticate: Bearer)', async () => {
      const r = await get(url, '/metrics');
      assert.equal(r.status, 401);
      assert.match(String(r.headers['www-authenticate']), /^Bearer realm=/);
      assert.doesNotMatch(r.body, /ciphergate_/, 'no metric leaks in the refusal');
    });

    it('MUST refuse a scrape with a wrong token (401, error="invalid_token")', async () => {
      const r = await get(url, '/metrics', 'not-the-token');
      assert.equal(r.status, 401);
      assert.match(String(r.headers['www-authenticate']), /invalid_token/);
    });

    it('MUST serve the Prometheus text format with the admin token', async () => {
      const r = await get(url, '/metrics', token);
      assert.equal(r.status, 200);
      assert.match(String(r.headers['content-type']), /^text\/plain; version=0\.0\.4/);
      assert.equal(r.headers['cache-control'], 'no-store');
      for (const name of ['ciphergate_registrations', 'ciphergate_calls_active', 'ciphergate_auth_failures_total', 'ciphergate_process_resident_memory_bytes']) {
        assert.ok(hasSample(r.body, name), `${name} is exposed`);
      }
      assert.equal(sample(r.body, 'ciphergate_trunk_up{trunk="pbx"}'), 1, 'keep-alive off: the trunk counts as usable');
      // the media engine's own gauges of its relay threads are wired in (series only where the relay keeps them)
      assert.match(r.body, /# TYPE ciphergate_media_relay_queue_delay_seconds histogram/);
      assert.match(r.body, /# TYPE ciphergate_media_relay_busy_seconds_total counter/);
    });
  });

  describe('GET /healthz and /readyz (no token)', () => {
    it('MUST answer /healthz 200 while the event loop runs', async () => {
      const r = await get(url, '/healthz');
      assert.equal(r.status, 200);
      assert.deepEqual(JSON.parse(r.body), { status: 'ok' });
    });

    it('MUST answer /readyz 200 when SIP listens and the store is open', async () => {
      const r = await get(url, '/readyz');
      assert.equal(r.status, 200);
      assert.deepEqual(JSON.parse(r.body), { status: 'ready' });
    });
  });

  describe('counters after scripted traffic', () => {
    it('MUST count a registration (RFC 3261 §10.3: 401 then 200) in the gauge and the outcomes', async () => {
      const before = await scrape();
      await lab.device('alice');
      const after = await scrape();
      assert.equal(sample(after, 'ciphergate_registrations'), sample(before, 'ciphergate_registrations') + 1);
      assert.equal(sample(after, 'ciphergate_register_responses_total{result="challenged"}'), sample(before, 'ciphergate_register_responses_total{result="challenged"}') + 1);
      assert.equal(sample(after, 'ciphergate_register_responses_total{result="accepted"}'), sample(before, 'ciphergate_register_responses_total{result="accepted"}') + 1);
      assert.equal(sample(after, 'ciphergate_auth_failures_total'), sample(before, 'ciphergate_auth_failures_total'), 'a good password is no failure');
    });

    it('MUST count wrong passwords as authentication failures and the lockout they cause', async () => {
      const before = await scrape();
      const ua = await SipUa.tls(lab.tlsPort, 'carol', 'not-carols-password');
      try {
        for (let i = 0; i < 2; i++) assert.notEqual((await ua.register()).status, 200);
      } finally {
        ua.close();
      }
      const after = await scrape();
      assert.equal(sample(after, 'ciphergate_auth_failures_total'), sample(before, 'ciphergate_auth_failures_total') + 2);
      assert.equal(sample(after, 'ciphergate_account_lockouts_total'), sample(before, 'ciphergate_account_lockouts_total') + 1);
      assert.equal(sample(after, 'ciphergate_registrations'), sample(before, 'ciphergate_registrations'), 'no binding was added');
    });

    // One device each for the call tests: a second device of bob's would be forked to as well.
    let alice: SipUa;
    let bob: SipUa;

    it('MUST count an answered call: calls_total, answered, ended with code 200, active back to 0', async () => {
      alice = await lab.device('alice');
      bob = await lab.device('bob');
      const before = await scrape();
      const e = await establish(alice, bob, 'sip:bob@127.0.0.1');
      const during = await scrape();
      assert.equal(sample(during, 'ciphergate_calls_active'), 1);
      assert.equal(sample(during, 'ciphergate_calls_total'), sample(before, 'ciphergate_calls_total') + 1);
      assert.equal((await hangup(alice, e)).status, 200);
      await waitFor(() => lab.t.gw.b2bua.list().length === 0, 3000, 'call over');
      const after = await scrape();
      assert.equal(sample(after, 'ciphergate_calls_active'), 0);
      assert.equal(sample(after, 'ciphergate_calls_answered_total'), sample(before, 'ciphergate_calls_answered_total') + 1);
      assert.equal(sample(after, 'ciphergate_calls_ended_total{code="200"}'), sample(before, 'ciphergate_calls_ended_total{code="200"}') + 1);
      assert.ok(sample(after, 'ciphergate_call_invites_total') >= sample(before, 'ciphergate_call_invites_total') + 1);
    });

    it('MUST count a refused call by its final status (486 from the callee)', async () => {
      const before = await scrape();
      const invite = alice.request('INVITE', 'sip:bob@127.0.0.1', { sdp: srtpSdp(30500) });
      const final = alice.transact(invite, 8000);
      const inbound = await bob.waitRequest('INVITE', 5000);
      bob.respond(inbound, 486, 'Busy Here');
      assert.equal((await final).status, 486);
      await waitFor(() => lab.t.gw.b2bua.list().length === 0, 3000, 'call over');
      const after = await scrape();
      assert.equal(sample(after, 'ciphergate_calls_ended_total{code="486"}'), sample(before, 'ciphergate_calls_ended_total{code="486"}') + 1);
      assert.equal(sample(after, 'ciphergate_calls_answered_total'), sample(before, 'ciphergate_calls_answered_total'));
    });
  });
});
