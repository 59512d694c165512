import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { auditEntry, AUDIT_FILE, FileAuditLog } from '../../../gateway/admin/audit';
import { computeHa1 } from '../../../gateway/admin/credentials';
import { makeDataDir, removeDataDir } from '../../store/fixtures';
import { call, closeApiHarness, openApiHarness, REALM, STRONG_PASSWORD, type ApiHarness } from './harness';

const NEW_PASSWORD = 'Kw4!nRb8_Ts3$yHe';

function entries(file: string): Record<string, any>[] { // eslint-disable-line @typescript-eslint/no-explicit-any -- parsed JSON lines
  return fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

describe('audit log (gateway/admin/audit.ts)', () => {
  describe('admin actions through the API', () => {
    let h: ApiHarness | undefined;
    afterEach(async () => { await closeApiHarness(h); h = undefined; });

    it('records who, from where, what, target and result for every action; never a secret', async () => {
      h = await openApiHarness();
      const tokenId = (await h.store.adminTokens.list())[0]!.id;
      await call(h, 'GET', '/api/users', { token: 'W'.repeat(43) });
      const added = await call(h, 'POST', '/api/users', { token: h.token, body: { name: 'bob' } });
      await call(h, 'POST', '/api/users', { token: h.token, body: { name: 'carol', password: STRONG_PASSWORD } });
      await call(h, 'POST', '/api/users', { token: h.token, body: { name: 'weak', password: 'weakpassword' } });
      await call(h, 'POST', '/api/users/bob/block', { token: h.token });
      await call(h, 'POST', '/api/users/bob/unblock', { token: h.token });
      const otp = (await call(h, 'POST', '/api/users/bob/reset', { token: h.token })).json.otp as string;
      await call(h, 'POST', '/self/password', { body: { user: 'bob', otp: 'AAAA-BBBB-CCCC-DDDD', newPassword: NEW_PASSWORD } });
      await call(h, 'POST', '/self/password', { body: { user: 'bob', otp, newPassword: NEW_PASSWORD } });
      await call(h, 'POST', '/api/users/carol/destroy-keys', { token: h.token });
      await call(h, 'DELETE', '/api/users/zed', { token: h.token });
      const file = path.join(h.dataDir, AUDIT_FILE);
      await h.audit.close();

      const text = fs.readFileSync(file, 'utf8');
      const secrets = [added.json.password as string, STRONG_PASSWORD, 'weakpassword', otp, otp.replace(/-/g, ''), NEW_PASSWORD, h.token];
      for (const s of secrets) assert.ok(!text.includes(s), 'the audit file holds a secret');
      for (const pw of [STRONG_PASSWORD, NEW_PASSWORD, added.json.password as string]) {
        for (const algorithm of ['MD5', 'SHA-256', 'SHA-512-256'] as const) {
          for (const user of ['bob', 'carol']) assert.ok(!text.includes(computeHa1(algorithm, user, REALM, pw).toString('hex')));
        }
      }
      assert.equal(fs.statSync(file).mode & 0o777, 0o600);

      const e = entries(file);
      const summary = e.map((x) => `${x.action} ${x.actor} ${x.source} ${x.target ?? '-'} ${x.result}${x.reason ? ` ${x.reason}` : ''}`);
      const token = `token:${tokenId}`;
      assert.deepEqual(summary, [
        `token.mint gateway local - ok`,
        'admin.auth-failure anonymous 127.0.0.1 - denied invalid token',
        `user.add ${token} 127.0.0.1 bob ok`,
        `user.add ${token} 127.0.0.1 carol ok`,
        `user.add ${token} 127.0.0.1 weak failed PasswordPolicyError`,
        `user.block ${token} 127.0.0.1 bob ok`,
        `user.unblock ${token} 127.0.0.1 bob ok`,
        `user.reset ${token} 127.0.0.1 bob ok`,
        'self.password anonymous 127.0.0.1 bob denied InvalidOtpError',
        'self.password anonymous 127.0.0.1 bob ok',
        `user.destroy-keys ${token} 127.0.0.1 carol ok`,
        `user.remove ${token} 127.0.0.1 zed failed UnknownUserError`,
      ]);
      for (const x of e) assert.match(x.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.match(e[7]!.detail.expiresAt, /^\d{4}-/);
    });
  });

  describe('entries', () => {
    it('keep only allow-listed detail fields and redact secrets in them', () => {
      const entry = auditEntry({
        action: 'sip.auth-failure', actor: 'sip', source: '192.0.2.1', target: 'bob', result: 'denied', reason: 'wrong password',
        detail: { method: 'REGISTER', password: 'hunter2', otp: 'ABCD', ha1: 'ff', token: 't', contact: 'sip:bob@h', via: 'Authorization: Digest response="abc"' },
      });
      assert.deepEqual(entry, {
        action: 'sip.auth-failure', actor: 'sip', source: '192.0.2.1', target: 'bob', result: 'denied', reason: 'wrong password',
        detail: { contact: 'sip:bob@h', via: 'Authorization: [redacted]', method: 'REGISTER' },
      });
    });

    it('bound string length and refuse malformed action names', () => {
      const entry = auditEntry({ action: 'Bad Action', actor: 'x'.repeat(1000), source: 'local', result: 'ok' });
      assert.equal(entry.action, 'invalid-action');
      assert.equal((entry.actor as string).length, 257);
    });
  });

  describe('the file', () => {
    let dir: string;
    beforeEach(() => { dir = makeDataDir(); });
    afterEach(() => { removeDataDir(dir); });

    it('is created 0600, appended to across opens, and an existing loose mode is tightened', async () => {
      const file = path.join(dir, AUDIT_FILE);
      fs.writeFileSync(file, '{"previous":true}\n', { mode: 0o644 });
      fs.chmodSync(file, 0o644);
      const a = FileAuditLog.open(dir);
      a.record({ action: 'user.list', actor: 'cli:test', source: 'local', result: 'ok' });
      await a.close();
      const b = FileAuditLog.open(dir);
      b.record({ action: 'user.show', actor: 'cli:test', source: 'local', target: 'bob', result: 'ok' });
      await b.close();
      assert.equal(fs.statSync(file).mode & 0o777, 0o600);
      assert.deepEqual(entries(file).map((x) => x.action ?? 'previous'), ['previous', 'user.list', 'user.show']);
    });

    it('refuses a symbolic link in place of the file', () => {
      fs.symlinkSync(path.join(dir, 'elsewhere'), path.join(dir, AUDIT_FILE));
      assert.throws(() => FileAuditLog.open(dir), /ELOOP/);
    });
  });
});
