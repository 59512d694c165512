/**
 * The registrar over real TLS connections (RFC 3261 §10.3, RFC 7616, RFC 8760): challenge,
 * success, several contacts, the contact limit, 423, wildcard, ordering, fetch.
 */
import assert from 'node:assert/strict';
import { openHarness, PASSWORDS, type Harness } from './harness';
import { contactsOf, SipTestClient, TestUa } from './sip-client';

describe('Registrar: REGISTER processing (RFC 3261 §10.3)', function () {
  this.timeout(20_000);
  let h: Harness;
  const clients: SipTestClient[] = [];

  before(async () => {
    h = await openHarness({ limits: { maxContacts: 3 } });
  });
  after(async () => {
    for (const c of clients) c.close();
    await h?.close();
  });
  afterEach(async () => {
    for (const b of await h.registrar.registrations()) await h.registrar.blockUser(b.user);
  });

  async function ua(user = 'alice', password = PASSWORDS[user]): Promise<TestUa> {
    const c = await SipTestClient.connect('TLS', h.ports.TLS, { ca: h.ca });
    clients.push(c);
    return new TestUa(c, user, password, '127.0.0.1', h.ports.TLS);
  }

  describe('§10.3 step 3 / §22: authentication', () => {
    it('MUST challenge a REGISTER without credentials with 401, SHA-256 offered before MD5 (RFC 8760 §2.3)', async () => {
      const a = await ua();
      const res = await a.send({ contacts: [a.contact()] });
      assert.equal(res.status, 401);
      const challenges = res.headers.getAll('WWW-Authenticate');
      assert.equal(challenges.length, 2);
      assert.match(challenges[0], /algorithm=SHA-256/);
      assert.match(challenges[1], /algorithm=MD5/);
      for (const c of challenges) {
        assert.match(c, /realm="ciphergate\.test"/);
        assert.match(c, /qop="auth"/);
      }
      assert.equal(h.registrar.locate('sip:alice@ciphergate.test').length, 0);
    });

    it('challenges a client listed in md5OnlyUserAgents with MD5 alone (libre stops at SHA-256)', async () => {
      const a = await ua();
      const res = await a.send({ contacts: [a.contact()], userAgent: 'baresip v1.0.0 (x86_64/linux)' });
      assert.equal(res.status, 401);
      const challenges = res.headers.getAll('WWW-Authenticate');
      assert.equal(challenges.length, 1);
      assert.match(challenges[0], /algorithm=MD5/);
      const other = await a.send({ contacts: [a.contact()], userAgent: 'baresip v2.9.0' });
      assert.equal(other.headers.getAll('WWW-Authenticate').length, 2);
    });

    it('accepts the digest answer and binds the Contact (200 with Contact;expires and Date)', async () => {
      const a = await ua();
      const res = await a.register({ contacts: [a.contact()], expires: 600 });
      assert.equal(res.status, 200, res.reason);
      const contacts = contactsOf(res);
      assert.equal(contacts.length, 1);
      assert.match(contacts[0], new RegExp(`^<sip:alice@127\\.0\\.0\\.1:${a.client.localPort};transport=tls>;expires=(600|599)$`));
      assert.ok(res.headers.get('Date')?.endsWith(' GMT'));
      const [b] = h.registrar.locate('sip:alice@ciphergate.test');
      assert.equal(b.user, 'alice');
      assert.equal(b.transport, 'TLS');
      assert.equal(b.reachable, true);
      assert.ok(b.flowId);
      assert.deepEqual(h.registrar.targetFor(b), {
        protocol: 'TLS', remote: { address: '127.0.0.1', port: a.client.localPort }, flowId: b.flowId, flowOnly: true,
      });
    });

    it('refuses a wrong password with 403 and binds nothing', async () => {
      const a = await ua('alice', 'not-the-password-1');
      const res = await a.register({ contacts: [a.contact()] });
      assert.equal(res.status, 403);
      assert.equal(res.reason, 'Forbidden');
      assert.equal(h.registrar.locate('sip:alice@ciphergate.test').length, 0);
    });

    it('§10.3 step 4: refuses 403 when the credentials are not those of the To AOR', async () => {
      const a = await ua('alice');
      const res = await a.register({ contacts: [a.contact()], toUser: 'bob' });
      assert.equal(res.status, 403);
      assert.equal(h.registrar.locate('sip:bob@ciphergate.test').length, 0);
    });

    it('RFC 7616 §3.4.6: 400 when the digest uri is not the Request-URI', async () => {
      const a = await ua();
      const first = await a.send({ contacts: [a.contact()] });
      const auth = a.digest.respond({
        status: 401, challenges: first.headers.getAll('WWW-Authenticate'), method: 'REGISTER', uri: 'sip:elsewhere.example',
      });
      const res = await a.send({ contacts: [a.contact()], authorization: auth.map((x) => x.value) });
      assert.equal(res.status, 400);
      assert.match(res.reason, /Digest URI/);
    });

    it('answers a nonce it did not issue (e.g. before a restart) with 401 stale=true, not 403', async () => {
      const a = await ua();
      const forged = 'Digest username="alice", realm="ciphergate.test", nonce="' + 'A'.repeat(75) + '", uri="sip:127.0.0.1", ' +
        'response="' + '0'.repeat(64) + '", algorithm=SHA-256, qop=auth, nc=00000001, cnonce="x"';
      const failures = h.defence.counters.authFailures;
      const res = await a.send({ contacts: [a.contact()], authorization: [forged] });
      assert.equal(res.status, 401);
      assert.ok(res.headers.getAll('WWW-Authenticate').every((c) => /stale=true/.test(c)));
      assert.equal(h.defence.counters.authFailures, failures);
    });
  });

  describe('§10.3 steps 6–8: bindings', () => {
    it('keeps several contacts per AOR with their q-values, and lists them all in the 200', async () => {
      const a = await ua();
      let res = await a.register({ contacts: ['<sip:alice@192.0.2.1:5061;transport=tls>;q=0.5', '<sip:alice@192.0.2.2:5061;transport=tls>;q=1'] });
      assert.equal(res.status, 200, res.reason);
      res = await a.register({ contacts: ['<sip:alice@192.0.2.3:5061;transport=tls>'] });
      assert.equal(res.status, 200);
      const listed = contactsOf(res);
      assert.equal(listed.length, 3);
      assert.ok(listed.some((c) => c.includes('192.0.2.1') && c.endsWith(';q=0.5')));
      const located = h.registrar.locate('sip:alice@ciphergate.test');
      assert.deepEqual(located.map((b) => b.qMilli ?? 1000), [1000, 1000, 500]);
    });

    it('refuses a contact beyond maxContacts with 403 and changes nothing', async () => {
      const a = await ua();
      const four = [1, 2, 3, 4].map((i) => `<sip:alice@192.0.2.${i}:5061;transport=tls>`);
      assert.equal((await a.register({ contacts: four.slice(0, 3) })).status, 200);
      const res = await a.register({ contacts: [four[3]] });
      assert.equal(res.status, 403);
      assert.match(res.reason, /Too Many Contacts/);
      assert.equal(h.registrar.locate('sip:alice@ciphergate.test').length, 3);
    });

    it('MAY answer 423 with Min-Expires to a too brief interval; shortens one beyond the maximum', async () => {
      const a = await ua();
      const brief = await a.register({ contacts: [a.contact()], expires: 30 });
      assert.equal(brief.status, 423);
      assert.equal(brief.headers.get('Min-Expires'), '60');
      const long = await a.register({ contacts: [a.contact(';expires=86400')] });
      assert.equal(long.status, 200);
      assert.match(contactsOf(long)[0], /;expires=(3600|3599)$/);
    });

    it('removes one binding with expires=0 and all of them with Contact: * and Expires: 0', async () => {
      const a = await ua();
      await a.register({ contacts: ['<sip:alice@192.0.2.1:5061;transport=tls>', '<sip:alice@192.0.2.2:5061;transport=tls>'] });
      let res = await a.register({ contacts: ['<sip:alice@192.0.2.1:5061;transport=tls>;expires=0'] });
      assert.equal(contactsOf(res).length, 1);
      const bad = await a.register({ contacts: '*', expires: 10 });
      assert.equal(bad.status, 400);
      res = await a.register({ contacts: '*', expires: 0 });
      assert.equal(res.status, 200);
      assert.equal(contactsOf(res).length, 0);
      assert.equal(h.registrar.locate('sip:alice@ciphergate.test').length, 0);
    });

    it('a REGISTER without Contact fetches the bindings (§10.2.3) without changing them', async () => {
      const a = await ua();
      await a.register({ contacts: [a.contact()] });
      const res = await a.register({});
      assert.equal(res.status, 200);
      assert.equal(contactsOf(res).length, 1);
    });

    it('§10.3 step 7: a lower CSeq with the same Call-ID fails (500) and leaves the binding', async () => {
      const a = await ua();
      a.cseq = 100;
      assert.equal((await a.register({ contacts: [a.contact(';expires=600')] })).status, 200);
      const before = h.registrar.locate('sip:alice@ciphergate.test')[0];
      a.cseq = 10;
      const res = await a.register({ contacts: [a.contact(';expires=0')] });
      assert.equal(res.status, 500);
      assert.match(res.reason, /Out-of-Order/);
      assert.deepEqual(h.registrar.locate('sip:alice@ciphergate.test'), [before]);
    });

    it('expires bindings at their time: locate stops returning them and the sweep deletes them from the store', async () => {
      const a = await ua();
      await a.register({ contacts: [a.contact(';expires=60')] });
      await h.registrar.flush();
      assert.equal((await h.store.registrations.list('sip:alice@ciphergate.test')).length, 1);
      h.clock.now += 61_000;
      assert.equal(h.registrar.locate('sip:alice@ciphergate.test').length, 0);
      await h.registrar.sweep();
      assert.equal((await h.store.registrations.list('sip:alice@ciphergate.test')).length, 0);
    });
  });
});
