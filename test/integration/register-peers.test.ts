/**
 * The registrar against real clients nobody on this project wrote (Debian packages):
 * baresip 1.0.0 (SIP over TLS, digest, RFC 5626 outbound) and linphonec 5.1 (verifies the
 * gateway's certificate). The gateway runs in this process on a fixed TLS port so that it can be
 * restarted under the same address.
 */
import assert from 'node:assert/strict';
import { generateSelfSigned } from '../../gateway/tls/certificate';
import { Baresip } from './peers/baresip';
import { startPeerGateway, type PeerGateway } from './peers/gateway';
import { Linphonec } from './peers/linphone';

const ALICE_PW = 'Baresip-Voice-2024x';
const BOB_PW = 'Linphone-Voice-2024x';

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('Integration: REGISTER from real clients over TLS', function () {
  this.timeout(150_000);
  let pg: PeerGateway;
  const stops: Array<() => Promise<void>> = [];

  before(async () => {
    pg = await startPeerGateway({ alice: ALICE_PW, bob: BOB_PW });
  });
  after(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await pg?.stop();
  });

  const reachable = (user: string) => pg.gw.registrar.locate(`sip:${user}@127.0.0.1`).filter((b) => b.reachable);

  describe('baresip 1.0.0 (RFC 3261 §10, §22; RFC 5626 outbound)', () => {
    let baresip: Baresip;
    before(async () => {
      baresip = await Baresip.start({ user: 'alice', password: ALICE_PW, gatewayPort: pg.tlsPort });
      stops.push(() => baresip.stop());
    });

    it('registers over TLS with digest authentication, as an outbound flow', async () => {
      await until('baresip binding', () => reachable('alice').length === 1, 15_000).catch((e: Error) => {
        throw new Error(`${e.message}\n${baresip.log().slice(-2000)}`);
      });
      const [b] = reachable('alice');
      assert.equal(b.transport, 'TLS');
      assert.match(b.userAgent ?? '', /^baresip/);
      assert.equal(b.regId, 1, 'sipnat=outbound sends reg-id (RFC 5626 §4.2)');
      assert.ok(b.instanceId?.startsWith('<urn:uuid:'));
    });

    it('registers again after a gateway restart (binding reloaded, then live on the new flow)', async () => {
      const before = reachable('alice')[0];
      await pg.restart();
      const reloaded = pg.gw.registrar.locate('sip:alice@127.0.0.1');
      assert.equal(reloaded.length, 1, 'the binding survived the restart');
      assert.equal(reloaded[0].reachable, false, 'its flow did not');
      // baresip notices the reset at once and recovers the flow after its back-off (30–60 s).
      await baresip.nextEvent((e) => e.type === 'REGISTER_OK', 90_000);
      await until('live binding', () => reachable('alice').length === 1, 5_000);
      const after = reachable('alice')[0];
      assert.notEqual(after.flowId, before.flowId);
      assert.equal(after.instanceId, before.instanceId);
    });

    it('blocking the user closes its TLS flow within 1 s, and its next REGISTER is refused with 403', async () => {
      const [b] = reachable('alice');
      const flowId = b.flowId ?? '';
      let closedAfter = Infinity;
      const t0 = Date.now();
      const onClosed = (id: string): void => {
        if (id === flowId) closedAfter = Date.now() - t0;
      };
      pg.gw.transport.on('flowClosed', onClosed);
      const reset = baresip.nextEvent((e) => e.type === 'REGISTER_FAIL', 5_000);
      await pg.gw.users.block('alice');
      await pg.gw.registrar.blockUser('alice');
      await until('flow closed', () => closedAfter !== Infinity, 1_000);
      pg.gw.transport.off('flowClosed', onClosed);
      assert.ok(closedAfter <= 1000, `closed after ${closedAfter} ms`);
      assert.equal(pg.gw.transport.isFlowAlive(flowId), false);
      await reset; // baresip saw its connection go
      baresip.reRegister();
      const refused = await baresip.nextEvent((e) => e.type === 'REGISTER_FAIL' && String(e.param).includes('403'), 15_000);
      assert.match(String(refused.param), /403/);
      assert.equal(reachable('alice').length, 0);
    });
  });

  describe('linphonec 5.1 (verifies the server certificate)', () => {
    it('registers over TLS, trusting only the gateway certificate as its root', async () => {
      const lp = Linphonec.start({ user: 'bob', password: BOB_PW, realm: '127.0.0.1', domain: '127.0.0.1', gatewayPort: pg.tlsPort, rootCaPem: pg.certPem() });
      stops.push(() => lp.stop());
      assert.ok(await lp.waitRegistered(20_000), lp.log().slice(-2000));
      const [b] = reachable('bob');
      assert.ok(b, 'binding present');
      assert.match(b.userAgent ?? '', /Linphone/i);
    });

    it('refuses to register when the certificate does not verify against its root (so the check above is real)', async () => {
      const other = await generateSelfSigned('127.0.0.1');
      const before = pg.gw.registrar.stats.requests;
      const lp = Linphonec.start({ user: 'bob', password: BOB_PW, realm: '127.0.0.1', domain: '127.0.0.1', gatewayPort: pg.tlsPort, rootCaPem: other.cert });
      stops.push(() => lp.stop());
      assert.equal(await lp.waitRegistered(4_000), false);
      assert.equal(pg.gw.registrar.stats.requests, before, 'no REGISTER reached the registrar');
    });
  });
});
