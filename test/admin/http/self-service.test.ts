import assert from 'node:assert/strict';
import { computeHa1 } from '../../../gateway/admin/credentials';
import { checkPassword } from '../../../gateway/admin/password-policy';
import { call, closeApiHarness, openApiHarness, REALM, STRONG_PASSWORD, type ApiHarness } from './harness';

const NEW_PASSWORD = 'Kw4!nRb8_Ts3$yHe';

describe('self-service password change (POST /self/password)', () => {
  let h: ApiHarness;
  let otp: string;
  beforeEach(async () => {
    h = await openApiHarness({ selfServiceAttempts: 7 });
    await h.users.add('bob', { password: STRONG_PASSWORD });
    otp = (await h.users.resetOtp('bob')).otp;
  });
  afterEach(async () => { await closeApiHarness(h); });

  it('204 with a valid OTP and a good password; the new password is the one digest checks', async () => {
    const r = await call(h, 'POST', '/self/password', { body: { user: 'bob', otp, newPassword: NEW_PASSWORD } });
    assert.equal(r.status, 204);
    assert.equal(r.text, '');
    assert.equal((await h.users.get('bob'))?.state, 'active');
    const ha1 = await h.users.ha1For('bob', REALM, 'SHA-256');
    assert.ok(ha1?.equals(computeHa1('SHA-256', 'bob', REALM, NEW_PASSWORD)));
  });

  it('needs no bearer token (it is the user\'s endpoint) and ignores a wrong one', async () => {
    const r = await call(h, 'POST', '/self/password', { token: 'X'.repeat(43), body: { user: 'bob', otp, newPassword: NEW_PASSWORD } });
    assert.equal(r.status, 204);
  });

  it('accepts the OTP in lower case and without dashes', async () => {
    const typed = otp.replace(/-/g, '').toLowerCase();
    assert.equal((await call(h, 'POST', '/self/password', { body: { user: 'bob', otp: typed, newPassword: NEW_PASSWORD } })).status, 204);
  });

  it('400 listing every policy violation (field newPassword); the OTP stays usable', async () => {
    const weak = 'bob12345';
    const r = await call(h, 'POST', '/self/password', { body: { user: 'bob', otp, newPassword: weak } });
    assert.equal(r.status, 400);
    assert.equal(r.json.field, 'newPassword');
    assert.deepEqual(r.json.violations, checkPassword(weak, { username: 'bob' }).violations);
    assert.ok(!r.text.includes(weak));
    assert.equal((await call(h, 'POST', '/self/password', { body: { user: 'bob', otp, newPassword: NEW_PASSWORD } })).status, 204);
  });

  it('400 naming a missing or unknown field', async () => {
    const missing = await call(h, 'POST', '/self/password', { body: { user: 'bob', otp } });
    assert.equal(missing.status, 400);
    assert.equal(missing.json.field, 'newPassword');
    const extra = await call(h, 'POST', '/self/password', { body: { user: 'bob', otp, newPassword: NEW_PASSWORD, password: 'x' } });
    assert.equal(extra.json.field, 'password');
  });

  it('403 with one and the same answer for a wrong, used or expired OTP and an unknown user', async () => {
    const wrong = await call(h, 'POST', '/self/password', { body: { user: 'bob', otp: 'AAAA-BBBB-CCCC-DDDD', newPassword: NEW_PASSWORD } });
    const unknown = await call(h, 'POST', '/self/password', { body: { user: 'nobody', otp, newPassword: NEW_PASSWORD } });
    const invalidName = await call(h, 'POST', '/self/password', { body: { user: 'Not A Name', otp, newPassword: NEW_PASSWORD } });
    assert.equal((await call(h, 'POST', '/self/password', { body: { user: 'bob', otp, newPassword: NEW_PASSWORD } })).status, 204);
    const used = await call(h, 'POST', '/self/password', { body: { user: 'bob', otp, newPassword: 'Zp5!qWx7_Mn2$Rt' } });
    await h.users.add('carol');
    const carolOtp = (await h.users.resetOtp('carol', 60_000)).otp;
    h.clock.now += 61_000;
    const expired = await call(h, 'POST', '/self/password', { body: { user: 'carol', otp: carolOtp, newPassword: NEW_PASSWORD } });
    const replies = [wrong, unknown, invalidName, used, expired];
    for (const r of replies) assert.equal(r.status, 403);
    assert.equal(new Set(replies.map((r) => r.text)).size, 1, 'every 403 reads the same');
    // A policy-breaking password with a wrong OTP is still 403: nothing is said about the password first.
    const weakWrong = await call(h, 'POST', '/self/password', { body: { user: 'carol', otp: 'AAAA-BBBB-CCCC-DDDD', newPassword: 'x' } });
    assert.equal(weakWrong.status, 403);
  });

  it('rate-limits per source address: 429 with Retry-After beyond admin.selfServiceAttempts', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await call(h, 'POST', '/self/password', { body: { user: 'bob', otp: 'AAAA-BBBB-CCCC-DDDD', newPassword: NEW_PASSWORD } });
      statuses.push(r.status);
      if (i === 7) assert.ok(Number(r.headers['retry-after']) > 0);
    }
    assert.deepEqual(statuses, [403, 403, 403, 403, 403, 403, 403, 429]);
    // Even the right OTP is refused while limited.
    assert.equal((await call(h, 'POST', '/self/password', { body: { user: 'bob', otp, newPassword: NEW_PASSWORD } })).status, 429);
  });
});
