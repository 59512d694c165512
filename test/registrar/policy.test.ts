/**
 * The registrar's policy: TLS only (RFC 3261 §26.2.1 "sips" spirit; the issue's rule), our own
 * domain only (§10.3 step 1), device certificates pinned to their user (mutual TLS).
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { generate } from 'selfsigned';
import { openHarness, PASSWORDS, type Harness } from './harness';
import { SipTestClient, TestUa } from './sip-client';

describe('Registrar: policy', function () {
  this.timeout(30_000);

  describe('TLS only (registrar.requireTls, default true)', () => {
    let h: Harness;
    const clients: SipTestClient[] = [];
    before(async () => {
      h = await openHarness();
    });
    after(async () => {
      for (const c of clients) c.close();
      await h?.close();
    });

    for (const protocol of ['UDP', 'TCP'] as const) {
      it(`answers a REGISTER over ${protocol} with 403 naming TLS, before any challenge`, async () => {
        const c = await SipTestClient.connect(protocol, h.ports[protocol]);
        clients.push(c);
        const a = new TestUa(c, 'alice', PASSWORDS.alice, '127.0.0.1', h.ports[protocol]);
        const res = await a.send({ contacts: [a.contact()] });
        assert.equal(res.status, 403);
        assert.equal(res.reason, 'Registration Requires TLS');
        assert.equal(res.headers.getAll('WWW-Authenticate').length, 0);
      });
    }

    it('§10.3 step 1: a Request-URI of another domain gets 404', async () => {
      const c = await SipTestClient.connect('TLS', h.ports.TLS, { ca: h.ca });
      clients.push(c);
      const a = new TestUa(c, 'alice', PASSWORDS.alice, 'example.org', h.ports.TLS);
      const res = await a.send({ contacts: [a.contact()] });
      assert.equal(res.status, 404);
    });

    it('accepts our domain name as well as our listen address in the Request-URI and To', async () => {
      const c = await SipTestClient.connect('TLS', h.ports.TLS, { ca: h.ca });
      clients.push(c);
      const a = new TestUa(c, 'alice', PASSWORDS.alice, 'ciphergate.test', h.ports.TLS);
      const res = await a.register({ contacts: [a.contact()] });
      assert.equal(res.status, 200, res.reason);
      await h.registrar.blockUser('alice');
    });
  });

  describe('device certificates (tls.requireClientCert)', () => {
    let h: Harness;
    let device: { alice: { cert: string; key: string }; bob: { cert: string; key: string } };
    const clients: SipTestClient[] = [];

    before(async () => {
      const ca = await generate([{ name: 'commonName', value: 'Ciphergate Device CA' }], {
        keyType: 'ec',
        algorithm: 'sha256',
        extensions: [
          { name: 'basicConstraints', cA: true, critical: true },
          { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
        ],
      });
      const issue = async (cn: string) => {
        const pems = await generate([{ name: 'commonName', value: cn }], {
          keyType: 'ec',
          algorithm: 'sha256',
          ca: { key: ca.private, cert: ca.cert },
          extensions: [
            { name: 'basicConstraints', cA: false },
            { name: 'keyUsage', digitalSignature: true, critical: true },
            { name: 'extKeyUsage', clientAuth: true },
          ],
        });
        return { cert: pems.cert, key: pems.private };
      };
      device = { alice: await issue('alice-phone'), bob: await issue('bob-phone') };
      h = await openHarness({ requireClientCert: true, clientCa: ca.cert });
      await h.users.bindCert('alice', new X509Certificate(device.alice.cert).fingerprint256);
      await h.users.bindCert('bob', new X509Certificate(device.bob.cert).fingerprint256);
    });
    after(async () => {
      for (const c of clients) c.close();
      await h?.close();
    });

    async function uaWith(cert: { cert: string; key: string }, user: string): Promise<TestUa> {
      const c = await SipTestClient.connect('TLS', h.ports.TLS, { ca: h.ca, ...cert });
      clients.push(c);
      return new TestUa(c, user, PASSWORDS[user], '127.0.0.1', h.ports.TLS);
    }

    it('accepts a REGISTER whose verified client certificate is bound to the user', async () => {
      const a = await uaWith(device.alice, 'alice');
      const res = await a.register({ contacts: [a.contact()] });
      assert.equal(res.status, 200, res.reason);
    });

    it("refuses (403) the right password over a connection with another user's certificate", async () => {
      const a = await uaWith(device.bob, 'alice');
      const res = await a.register({ contacts: [a.contact()] });
      assert.equal(res.status, 403);
      assert.match(res.reason, /Certificate/);
    });

    it('refuses the handshake of a client without a certificate from the device CA', async () => {
      const c = await SipTestClient.connect('TLS', h.ports.TLS, { ca: h.ca }).catch(() => undefined);
      if (c === undefined) return; // TLS 1.2: refused inside the handshake
      clients.push(c);
      // TLS 1.3: the client's Finished goes first; the server's refusal then closes the connection.
      await Promise.race([c.closed, new Promise((_, reject) => setTimeout(() => reject(new Error('still open')), 2000))]);
      assert.equal(c.isClosed, true);
    });
  });
});
