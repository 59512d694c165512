/**
 * SIP MESSAGE between real clients nobody on this project wrote (Debian packages), through the
 * gateway over TLS with digest (RFC 3428 §7: the clients answer the gateway's 407): baresip 1.0.0
 * to baresip online, then to a baresip that registers later (store-and-forward), and linphonec 5.1
 * (`chat`; it verifies the gateway's certificate) with baresip both ways.
 */
import assert from 'node:assert/strict';
import { Baresip } from './peers/baresip';
import { startPeerGateway, type PeerGateway } from './peers/gateway';
import { Linphonec } from './peers/linphone';

const PASSWORDS: Record<string, string> = {
  alice: 'Baresip-Voice-2024x', bob: 'Baresip-Other-2024y', carol: 'Baresip-Third-2024z', dave: 'Linphone-Chat-2024w',
};

async function until(what: string, check: () => boolean, timeoutMs: number, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${log().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('Integration: MESSAGE between real clients (baresip 1.0.0, linphonec 5.1)', function () {
  this.timeout(120_000);
  let pg: PeerGateway;
  const peers: Baresip[] = [];

  before(async () => {
    pg = await startPeerGateway(PASSWORDS);
  });
  after(async () => {
    for (const p of peers.reverse()) await p.stop().catch(() => undefined);
    await pg?.stop();
  });

  const reachable = (user: string): number => pg.gw.registrar.locate(`sip:${user}@127.0.0.1`).filter((b) => b.reachable).length;

  async function peer(user: string, to: string): Promise<Baresip> {
    const p = await Baresip.start({ user, password: PASSWORDS[user]!, gatewayPort: pg.tlsPort, contact: `sip:${to}@127.0.0.1` });
    peers.push(p);
    await until(`${user} registered`, () => reachable(user) === 1, 20_000, () => p.log());
    return p;
  }

  it('baresip → gateway → baresip, online: delivered over the recipient\'s TLS flow, nothing stored', async () => {
    const alice = await peer('alice', 'bob');
    const bob = await peer('bob', 'alice');
    const before = pg.gw.messaging.stats;
    alice.message('hello from alice via ciphergate');
    await bob.waitOutput(/sip:alice@127\.0\.0\.1.*hello from alice via ciphergate/, 15_000);
    const after = pg.gw.messaging.stats;
    assert.ok(after.challenges > before.challenges, 'the gateway challenged with 407 and baresip answered');
    assert.equal(after.deliveredOnline, before.deliveredOnline + 1);
    assert.equal(pg.gw.messaging.storedCount(), 0);
    bob.message('and back from bob');
    await alice.waitOutput(/sip:bob@127\.0\.0\.1.*and back from bob/, 15_000);
  });

  it('baresip → offline user: 202, stored, delivered once when that user\'s baresip registers', async () => {
    const stored = new Promise<void>((resolve) => pg.gw.messaging.once('stored', () => resolve()));
    const carolContact = 'sip:carol@127.0.0.1';
    // alice's current contact is bob; switch baresip's contact list to carol for this message.
    const sender = await Baresip.start({ user: 'alice', password: PASSWORDS.alice!, gatewayPort: pg.tlsPort, contact: carolContact });
    peers.push(sender);
    await until('second alice device registered', () => reachable('alice') === 2, 20_000, () => sender.log());
    sender.message('kept for carol until she comes');
    await stored;
    assert.equal(pg.gw.messaging.storedCount('carol'), 1);
    const carol = await peer('carol', 'alice');
    await carol.waitOutput(/sip:alice@127\.0\.0\.1.*kept for carol until she comes/, 15_000);
    await until('store empty', () => pg.gw.messaging.storedCount() === 0, 5_000, () => carol.log());
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(carol.log().split('kept for carol until she comes').length - 1, 1, 'delivered once');
  });

  it('linphonec `chat` ↔ baresip, both ways', async () => {
    const dave = Linphonec.start({ user: 'dave', password: PASSWORDS.dave!, realm: '127.0.0.1', domain: '127.0.0.1', gatewayPort: pg.tlsPort, rootCaPem: pg.certPem() });
    try {
      assert.ok(await dave.waitRegistered(20_000), `linphonec did not register:\n${dave.log().slice(-2000)}`);
      const bob = peers[1]!;
      dave.command('chat sip:bob@127.0.0.1 hello from linphonec');
      await bob.waitOutput(/sip:dave@127\.0\.0\.1: "hello from linphonec"/, 15_000);
      const toDave = await Baresip.start({ user: 'bob', password: PASSWORDS.bob!, gatewayPort: pg.tlsPort, contact: 'sip:dave@127.0.0.1' });
      peers.push(toDave);
      await until('second bob device', () => reachable('bob') === 2, 20_000, () => toDave.log());
      toDave.message('hello back to linphonec');
      await until('linphonec received it', () => /Message received from sip:bob@127\.0\.0\.1: hello back to linphonec/.test(dave.log()), 15_000, () => dave.log());
    } finally {
      await dave.stop();
    }
  });
});
