import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  CertificateInUseError,
  InvalidDisplayNameError,
  InvalidFingerprintError,
  InvalidNumberError,
  InvalidOtpError,
  InvalidUserNameError,
  NumberInUseError,
  PasswordPolicyError,
  UnknownUserError,
  UserBlockedError,
  UserExistsError,
} from '../../gateway/admin/errors';
import { DEFAULT_OTP_TTL_MS } from '../../gateway/admin/users';
import { SealedValueError, type Ha1Algorithm } from '../../gateway/store';
import { REALM, T0, closeHarness, openHarness, type Harness } from './harness';

const PW = 'Tr0ub4dor&3x!';
const PW2 = 'correct-Horse-7-battery';
const NODE: Record<Ha1Algorithm, string> = { MD5: 'md5', 'SHA-256': 'sha256', 'SHA-512-256': 'sha512-256' };
const ALGS: readonly Ha1Algorithm[] = ['MD5', 'SHA-256', 'SHA-512-256'];
const OTP_FORMAT = /^[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$/;

/** HA1 computed independently of the code under test (RFC 7616 §3.4.2). */
function expectedHa1(alg: Ha1Algorithm, name: string, password: string, realm = REALM): Buffer {
  return createHash(NODE[alg]).update(`${name}:${realm}:${password}`).digest();
}

/** stored equals expected; unlike deepEqual, a failure prints neither HA1 (secrets stay out of test output). */
function assertHa1(stored: Buffer | undefined, expected: Buffer, what: string): void {
  assert.ok(stored?.equals(expected) === true, `${what}: the stored HA1 is not the expected one`);
}

describe('admin: UserService', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await openHarness();
  });
  afterEach(async () => closeHarness(h));

  describe('add', () => {
    it('MUST generate a policy-conforming password, return it once, and store only its HA1s', async () => {
      const added = await h.users.add('alice', { number: '+41446681800', displayName: 'Alice A.' });
      assert.ok(added.generatedPassword !== undefined && added.generatedPassword.length === 20);
      assert.deepEqual(
        { ...added.user },
        {
          name: 'alice',
          number: '+41446681800',
          displayName: 'Alice A.',
          state: 'active',
          mayCallOffNet: false,
          mayCallInternational: false,
          createdAt: T0,
          updatedAt: T0,
        },
      );
      for (const alg of ALGS) {
        assertHa1(await h.users.ha1For('alice', REALM, alg), expectedHa1(alg, 'alice', added.generatedPassword), `alice ${alg}`);
      }
      assert.equal((await h.users.show('alice')).hasPassword, true);
    });

    it('MUST use a given password and not return it', async () => {
      const added = await h.users.add('bob', { password: PW, mayCallOffNet: true });
      assert.equal(added.generatedPassword, undefined);
      assert.equal(added.user.mayCallOffNet, true);
      assertHa1(await h.users.ha1For('bob', REALM, 'SHA-256'), expectedHa1('SHA-256', 'bob', PW), 'bob SHA-256');
    });

    it('MUST refuse a weak password listing every broken rule, without creating the user', async () => {
      const weak = 'bobby123';
      await assert.rejects(h.users.add('bobby', { password: weak }), (err: unknown) => {
        assert.ok(err instanceof PasswordPolicyError);
        assert.deepEqual(err.violations, [
          'must be at least 12 characters long',
          'must contain an upper-case letter',
          'must contain a symbol (punctuation or a space, such as - _ . ! #)',
          'must not contain the user name',
        ]);
        assert.ok(!err.message.includes(weak));
        return true;
      });
      assert.equal(await h.users.get('bobby'), undefined);
    });

    for (const bad of ['Alice', '', 'a'.repeat(65), 'al ice', 'al@ice', 'al:ice', 'al%40ice', '+41446681800x', 'ålice']) {
      it(`MUST refuse the user name ${JSON.stringify(bad.length > 20 ? `${bad.slice(0, 8)}...` : bad)} without echoing it`, async () => {
        await assert.rejects(h.users.add(bad), (err: unknown) => {
          assert.ok(err instanceof InvalidUserNameError);
          if (bad.length > 2) assert.ok(!err.message.includes(bad));
          return true;
        });
      });
    }

    it("MUST accept every RFC 3261 unreserved mark in a name (o'brien.x-y_z!~*())", async () => {
      const name = "o'brien.x-y_z!~*()";
      assert.equal((await h.users.add(name, { password: PW })).user.name, name);
    });

    it('MUST refuse a taken name and a taken number, naming the owner', async () => {
      await h.users.add('alice', { number: '+41446681800' });
      await assert.rejects(h.users.add('alice'), UserExistsError);
      await assert.rejects(h.users.add('carol', { number: '+41446681800' }), (err: unknown) => {
        assert.ok(err instanceof NumberInUseError);
        assert.equal(err.owner, 'alice');
        return true;
      });
    });

    for (const bad of ['41446681800', '+041446681800', '+1234567', '+1234567890123456', '+41 44 668', '+4144668180a']) {
      it(`MUST refuse the number ${bad} (E.164: + and 8..15 digits)`, async () => {
        await assert.rejects(h.users.add('dave', { number: bad }), InvalidNumberError);
      });
    }

    it('MUST refuse a display name with CR/LF (header injection)', async () => {
      await assert.rejects(h.users.add('eve', { displayName: 'Eve\r\nVia: x' }), InvalidDisplayNameError);
    });
  });

  describe('list, show, update', () => {
    it('MUST list users by name and show details', async () => {
      await h.users.add('bob', { password: PW });
      await h.users.add('alice', { password: PW2 });
      assert.deepEqual((await h.users.list()).map((u) => u.name), ['alice', 'bob']);
      const details = await h.users.show('alice');
      assert.equal(details.hasPassword, true);
      assert.equal(details.otpPending, false);
      assert.deepEqual(details.certificates, []);
      await assert.rejects(h.users.show('nobody'), UnknownUserError);
    });

    it('MUST update number, display name and calling rights, and clear with null', async () => {
      await h.users.add('alice', { password: PW });
      h.clock.now = T0 + 1000;
      const u = await h.users.update('alice', { number: '+41446681800', displayName: 'Alice', mayCallInternational: true });
      assert.deepEqual([u.number, u.displayName, u.mayCallInternational, u.updatedAt], ['+41446681800', 'Alice', true, T0 + 1000]);
      assert.equal((await h.users.getByNumber('+41446681800'))?.name, 'alice');
      assert.equal((await h.users.update('alice', { number: null })).number, undefined);
    });
  });

  describe('RFC 7616 §3.4.2 HA1 for the digest server', () => {
    beforeEach(async () => {
      await h.users.add('alice', { password: PW });
    });

    it('MUST give 16 bytes for MD5 and 32 for SHA-256 and SHA-512-256', async () => {
      assert.equal((await h.users.ha1For('alice', REALM, 'MD5'))?.length, 16);
      assert.equal((await h.users.ha1For('alice', REALM, 'SHA-256'))?.length, 32);
      assert.equal((await h.users.ha1For('alice', REALM, 'SHA-512-256'))?.length, 32);
    });

    it('MUST give nothing for another realm, an unknown user or an invalid name', async () => {
      assert.equal(await h.users.ha1For('alice', 'other.example', 'SHA-256'), undefined);
      assert.equal(await h.users.ha1For('nobody', REALM, 'SHA-256'), undefined);
      assert.equal(await h.users.ha1For('Alice', REALM, 'SHA-256'), undefined);
    });

    it("MUST refuse another user's sealed HA1 copied into this user's row", async () => {
      await h.users.add('mallory', { password: PW2 });
      const alice = await h.store.secrets.getHa1('alice', 'SHA-256');
      assert.ok(alice !== undefined);
      await h.store.secrets.putHa1s('mallory', [alice]);
      await assert.rejects(h.users.ha1For('mallory', REALM, 'SHA-256'), SealedValueError);
    });
  });

  describe('block and unblock', () => {
    it('MUST stop a blocked user authenticating and restore it on unblock', async () => {
      await h.users.add('alice', { password: PW });
      assert.equal((await h.users.block('alice')).state, 'blocked');
      assert.equal(await h.users.ha1For('alice', REALM, 'SHA-256'), undefined);
      assert.equal((await h.users.setPassword('alice', PW2)).state, 'blocked', 'a password change does not unblock');
      assert.equal((await h.users.unblock('alice')).state, 'active');
      assertHa1(await h.users.ha1For('alice', REALM, 'SHA-256'), expectedHa1('SHA-256', 'alice', PW2), 'alice SHA-256');
    });

    it('MUST unblock to password-change-required when the user has no password', async () => {
      await h.users.add('alice', { password: PW });
      await h.users.destroyKeys('alice');
      await h.users.block('alice');
      assert.equal((await h.users.unblock('alice')).state, 'password-change-required');
    });

    it('MUST refuse an OTP for a blocked user', async () => {
      await h.users.add('alice', { password: PW });
      await h.users.block('alice');
      await assert.rejects(h.users.resetOtp('alice'), UserBlockedError);
    });
  });

  describe('one-time passwords', () => {
    beforeEach(async () => {
      await h.users.add('alice', { password: PW });
    });

    it('MUST issue a 16-character unambiguous OTP valid 24 h and require a password change', async () => {
      const { otp, expiresAt } = await h.users.resetOtp('alice');
      assert.ok(OTP_FORMAT.test(otp), 'OTP format (not printed on failure)');
      assert.equal(expiresAt, T0 + DEFAULT_OTP_TTL_MS);
      const details = await h.users.show('alice');
      assert.equal(details.state, 'password-change-required');
      assert.equal(details.otpPending, true);
      assert.equal(details.otpExpiresAt, expiresAt);
      assert.equal(await h.users.ha1For('alice', REALM, 'SHA-256'), undefined, 'the old password stops working');
    });

    it('MUST set the new password and activate the user on redeem (case and dashes ignored)', async () => {
      const { otp } = await h.users.resetOtp('alice');
      h.clock.now = T0 + 60_000;
      const user = await h.users.redeemOtp('alice', otp.toLowerCase().replace(/-/g, ''), PW2);
      assert.equal(user.state, 'active');
      assertHa1(await h.users.ha1For('alice', REALM, 'SHA-512-256'), expectedHa1('SHA-512-256', 'alice', PW2), 'alice SHA-512-256');
      assert.equal((await h.users.show('alice')).otpPending, false);
    });

    it('MUST accept an OTP only once', async () => {
      const { otp } = await h.users.resetOtp('alice');
      await h.users.redeemOtp('alice', otp, PW2);
      await assert.rejects(h.users.redeemOtp('alice', otp, 'An0ther-Passw0rd!'), InvalidOtpError);
      assertHa1(await h.users.ha1For('alice', REALM, 'SHA-256'), expectedHa1('SHA-256', 'alice', PW2), 'alice SHA-256');
    });

    it('MUST refuse a wrong OTP without using up the right one', async () => {
      const { otp } = await h.users.resetOtp('alice');
      const wrong = otp.slice(0, -1) + (otp.endsWith('2') ? '3' : '2');
      await assert.rejects(h.users.redeemOtp('alice', wrong, PW2), (err: unknown) => {
        assert.ok(err instanceof InvalidOtpError);
        assert.ok(!err.message.includes(otp) && !err.message.includes(wrong));
        return true;
      });
      await assert.rejects(h.users.redeemOtp('alice', '', PW2), InvalidOtpError);
      await assert.rejects(h.users.redeemOtp('alice', 'x'.repeat(10_000), PW2), InvalidOtpError);
      assert.equal((await h.users.redeemOtp('alice', otp, PW2)).state, 'active');
    });

    it('MUST refuse an expired OTP (valid until just before expiresAt)', async () => {
      const { otp, expiresAt } = await h.users.resetOtp('alice', 3600_000);
      h.clock.now = expiresAt;
      await assert.rejects(h.users.redeemOtp('alice', otp, PW2), InvalidOtpError);
      h.clock.now = expiresAt - 1;
      assert.equal((await h.users.redeemOtp('alice', otp, PW2)).state, 'active');
    });

    it('MUST NOT use up the OTP when the new password breaks the policy', async () => {
      const { otp } = await h.users.resetOtp('alice');
      await assert.rejects(h.users.redeemOtp('alice', otp, 'alice-Password-1'), PasswordPolicyError);
      assert.equal((await h.users.redeemOtp('alice', otp, PW2)).state, 'active');
    });

    it('MUST invalidate the previous OTP when a new one is issued', async () => {
      const first = await h.users.resetOtp('alice');
      const second = await h.users.resetOtp('alice');
      await assert.rejects(h.users.redeemOtp('alice', first.otp, PW2), InvalidOtpError);
      assert.equal((await h.users.redeemOtp('alice', second.otp, PW2)).state, 'active');
    });

    it('MUST answer an unknown or blocked user like a wrong OTP', async () => {
      const { otp } = await h.users.resetOtp('alice');
      await assert.rejects(h.users.redeemOtp('nobody', otp, PW2), InvalidOtpError);
      await assert.rejects(h.users.redeemOtp('Not A Name', otp, PW2), InvalidOtpError);
      await h.users.block('alice');
      await assert.rejects(h.users.redeemOtp('alice', otp, PW2), InvalidOtpError);
    });

    it('MUST bound the OTP lifetime between 1 minute and 30 days', async () => {
      await assert.rejects(h.users.resetOtp('alice', 1000), /between 1 minute and 30 days/);
      await assert.rejects(h.users.resetOtp('alice', 31 * DEFAULT_OTP_TTL_MS), /between 1 minute and 30 days/);
    });

    it('MUST be cancelled by an administrator setting the password', async () => {
      const { otp } = await h.users.resetOtp('alice');
      assert.equal((await h.users.setPassword('alice', PW2)).state, 'active');
      await assert.rejects(h.users.redeemOtp('alice', otp, 'An0ther-Passw0rd!'), InvalidOtpError);
    });
  });

  describe('destroyKeys, setPassword', () => {
    it('MUST leave the user unable to authenticate until a new password is set', async () => {
      await h.users.add('alice', { password: PW });
      const user = await h.users.destroyKeys('alice');
      assert.equal(user.state, 'password-change-required');
      for (const alg of ALGS) assert.equal(await h.users.ha1For('alice', REALM, alg), undefined);
      assert.equal((await h.users.show('alice')).hasPassword, false);
      await assert.rejects(h.users.setPassword('alice', 'short'), PasswordPolicyError);
      assert.equal((await h.users.setPassword('alice', PW2)).state, 'active');
      assertHa1(await h.users.ha1For('alice', REALM, 'MD5'), expectedHa1('MD5', 'alice', PW2), 'alice MD5');
    });
  });

  describe('remove', () => {
    it('MUST delete the user with its registrations and certificate bindings', async () => {
      await h.users.add('alice', { password: PW });
      await h.users.bindCert('alice', 'ab'.repeat(32));
      await h.store.registrations.upsert({
        aor: 'sip:alice@ciphergate.local',
        contact: 'sip:alice@192.0.2.1:5061;transport=tls',
        user: 'alice',
        callId: 'c',
        cseq: 1,
        expiresAt: T0 + 1000,
        transport: 'TLS',
        remoteAddress: '192.0.2.1',
        remotePort: 5061,
        path: [],
        registeredAt: T0,
        updatedAt: T0,
      });
      await h.users.remove('alice');
      assert.equal(await h.users.get('alice'), undefined);
      assert.equal(await h.users.ha1For('alice', REALM, 'SHA-256'), undefined);
      assert.deepEqual(await h.store.registrations.list(), []);
      assert.equal(await h.users.userForCert('ab'.repeat(32)), undefined);
      await assert.rejects(h.users.remove('alice'), UnknownUserError);
    });
  });

  describe('client certificate bindings', () => {
    const fp = Array.from({ length: 32 }, (_, i) => (i * 7 + 16).toString(16).padStart(2, '0').toUpperCase()).join(':');

    it('MUST normalize an openssl-style fingerprint and find the user by it', async () => {
      await h.users.add('alice', { password: PW });
      const stored = await h.users.bindCert('alice', fp);
      assert.equal(stored, fp.replace(/:/g, '').toLowerCase());
      assert.equal((await h.users.userForCert(`sha-256 ${fp}`))?.name, 'alice');
      assert.deepEqual((await h.users.show('alice')).certificates, [stored]);
    });

    it('MUST refuse a certificate bound to someone else, and malformed fingerprints', async () => {
      await h.users.add('alice', { password: PW });
      await h.users.add('bob', { password: PW2 });
      await h.users.bindCert('alice', fp);
      await assert.rejects(h.users.bindCert('bob', fp), CertificateInUseError);
      for (const bad of ['ab'.repeat(31), 'zz'.repeat(32), `${fp}:00`, fp.replace(/:/g, ';')]) {
        await assert.rejects(h.users.bindCert('bob', bad), InvalidFingerprintError);
      }
    });
  });
});
