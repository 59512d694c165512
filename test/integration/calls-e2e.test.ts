/**
 * Issue 5 tests 4 and 8 with real peers: DTLS-SRTP end to end through the gateway (pass-through:
 * the media bytes leave the gateway as they came in, the gateway holds no key), and linphonec,
 * which verifies the gateway's certificate, calling baresip.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { startTestGateway, type TestGateway } from '../helpers/in-process-gateway';
import { Capture, Phone, registeredPhone, settledFile, toneOf } from './calls-harness';
import { Linphonec } from './peers/linphone';

const PASSWORDS = { alice: 'Wonderland-Key-81', bob: 'Builder-Tool-Box-22' } as const;

function payloads(file: string, filter: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile('tshark', ['-r', file, '-Y', filter, '-T', 'fields', '-e', 'udp.payload'], { timeout: 20_000, maxBuffer: 64 << 20 }, (err, out, stderr) => {
      if (err) reject(new Error(stderr));
      else resolve(out.split('\n').map((l) => l.trim()).filter((l) => l !== ''));
    });
  });
}

describe('Calls with real peers: end-to-end keys and certificate checks (issue 5 tests 4, 8)', function () {
  this.timeout(60_000);
  let t: TestGateway;
  const phones: Phone[] = [];
  const base = 51000 + Math.floor(Math.random() * 10) * 400;
  const ranges = { alice: { lo: base, hi: base + 19 }, bob: { lo: base + 20, hi: base + 39 } };

  const phone = async (name: keyof typeof PASSWORDS, tone: number, mediaenc: string): Promise<Phone> => {
    const r = ranges[name];
    const p = await registeredPhone(t, { user: name, password: PASSWORDS[name], tone, rtpPorts: `${r.lo}-${r.hi}`, mediaenc, codecs: 'PCMU' });
    phones.push(p);
    return p;
  };

  before(async () => {
    t = await startTestGateway([
      'sip.domain=127.0.0.1', 'media.address=127.0.0.1', 'media.workers=1',
      `media.portMin=${base + 100}`, `media.portMax=${base + 299}`,
    ]);
    await t.gw.users.add('alice', { password: PASSWORDS.alice });
    await t.gw.users.add('bob', { password: PASSWORDS.bob });
  });
  afterEach(async () => {
    for (const p of phones.splice(0)) await p.stop();
  });
  after(async () => {
    await t?.stop();
  });

  it('4: dtls_srtp is passed through: the call works and media bytes are identical in and out of the gateway', async () => {
    const alice = await phone('alice', 1000, 'dtls_srtp');
    const bob = await phone('bob', 440, 'dtls_srtp');
    const a = ranges.alice;
    const b = ranges.bob;
    const cap = await Capture.start(`udp and ((portrange ${a.lo}-${a.hi}) or (portrange ${b.lo}-${b.hi}))`);
    let relay: { alice: number[]; bob: number[] } | undefined;
    try {
      alice.command('dial', 'sip:bob@127.0.0.1');
      await alice.waitEvent('CALL_ESTABLISHED', 10_000);
      await bob.waitEvent('CALL_ESTABLISHED', 5000);
      await new Promise((r) => setTimeout(r, 4000));
      // The engine's ports facing each phone: the comparison is exactly "in on alice's leg, out on bob's".
      const [call] = t.gw.b2bua.list();
      assert.ok(call, 'the call is up');
      const stats = await t.gw.media.query(call.mediaId);
      const ports = (i: number): number[] => stats.legs[i]!.streams.flatMap((st) => (st.local ? [st.local.rtpPort, st.local.rtcpPort] : []));
      assert.deepEqual(stats.legs.map((l) => l.streams[0]!.mode), ['pass-through', 'pass-through']);
      // With the in-kernel forwarder (media.kernelForwarding: auto, as root), the kernel carried the
      // media after latching: the comparison below then proves its bytes unchanged too.
      const forwarder = (t.gw.media as { kernelForwarder?: unknown }).kernelForwarder;
      if (forwarder !== undefined) assert.ok(stats.legs[0]!.streams[0]!.rx.kernelPackets > 100, `${stats.legs[0]!.streams[0]!.rx.kernelPackets} of alice's packets relayed in the kernel`);
      relay = { alice: ports(0), bob: ports(1) };
      alice.command('hangup');
      await bob.waitEvent('CALL_CLOSED', 5000);
    } finally {
      await cap.stop();
    }
    // The DTLS handshake ran end to end: each client verified the other's fingerprint.
    assert.match(alice.log(), /DTLS-SRTP complete \(audio\/RTP\)/);
    assert.match(bob.log(), /DTLS-SRTP complete \(audio\/RTP\)/);
    const inList = (field: string, ports: number[]): string => `(${ports.map((p) => `${field} == ${p}`).join(' || ')})`;
    const fromAlice = await payloads(cap.file, `udp.srcport >= ${a.lo} && udp.srcport <= ${a.hi} && ${inList('udp.dstport', relay!.alice)}`);
    const toBob = new Set(await payloads(cap.file, `udp.dstport >= ${b.lo} && udp.dstport <= ${b.hi} && ${inList('udp.srcport', relay!.bob)}`));
    assert.ok(fromAlice.length > 100, `alice sent the gateway ${fromAlice.length} datagrams`);
    const same = fromAlice.filter((p) => toBob.has(p)).length;
    // Only datagrams sent before bob's side was negotiated may be missing (the engine drops them).
    assert.ok(same / fromAlice.length > 0.95, `${same} of ${fromAlice.length} of alice's datagrams reached bob byte for byte`);
    const atBob = await toneOf(await settledFile(() => bob.received(), 5000));
    assert.ok(Math.abs(atBob.frequency - 1000) < 60, `bob heard ${atBob.frequency} Hz`);
    cap.remove();
  });

  it('8: linphonec, verifying the gateway certificate, calls baresip through the gateway', async () => {
    const bob = await phone('bob', 440, 'srtp-mand');
    const linphone = Linphonec.start({
      user: 'alice', password: PASSWORDS.alice, realm: t.config.sip.realm, domain: '127.0.0.1', gatewayPort: t.port('TLS'),
      rootCaPem: t.tls.cert.toString(), rtpPorts: `${ranges.alice.lo}-${ranges.alice.hi}`, srtp: true,
    });
    try {
      assert.ok(await linphone.waitRegistered(15_000), `linphonec did not register:\n${linphone.log()}`);
      linphone.command('call sip:bob@127.0.0.1');
      await bob.waitEvent('CALL_ESTABLISHED', 15_000);
      const menc = await bob.waitEvent('CALL_MENC', 5000);
      assert.match(menc.param ?? '', /AES/i);
      await new Promise((r) => setTimeout(r, 2000));
      linphone.command('terminate');
      await bob.waitEvent('CALL_CLOSED', 5000);
    } finally {
      await linphone.stop();
    }
  });
});
