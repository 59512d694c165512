/**
 * The media engine between real peers (work/shared/PEERS.md): two baresip 1.0 user agents call
 * each other through a minimal B2BUA harness (test/media/engine/sip-harness.ts) that hands their
 * SDP to EmbeddedMediaEngine, running in worker-thread mode as deployed.
 *
 * - Terminate: baresip A (mediaenc=srtp-mand, libsrtp-compatible libre SRTP) sends a 1 kHz tone,
 *   baresip B (plain RTP/AVP) a 440 Hz tone; each must receive the other's (sox "Rough frequency"),
 *   and a tshark capture must show the PCMU tone bytes on the plain leg only.
 * - Transcoding: baresip A speaks only Opus (SRTP), B only PCMU (plain); the tones survive both ways.
 * - Pass-through: two dtls_srtp endpoints complete DTLS through the engine and exchange tones; every
 *   datagram the engine sends out is byte-identical to one it received.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EmbeddedMediaEngine, type OfferFlags } from '../../media/engine';
import { engineSettings, sleep, waitFor } from '../media/engine/helpers';
import { BaresipUa, MiniB2bua, waitEvent } from '../media/engine/sip-harness';

/** ausine's 1 kHz tone in PCMU (PEERS.md). */
const TONE_PCMU = '12:11:22:aa:92:91:a2:2a';
const CALL_MS = 5000;

function requireTools(): void {
  for (const bin of ['baresip', 'sox', 'tshark']) {
    try {
      execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    } catch {
      throw new Error(`${bin} is not installed: run scripts/install-test-peers.sh (these tests are never skipped)`);
    }
  }
}

/** sox's zero-crossing estimate of the dominant frequency (PEERS.md: remix 1 rate 48k). */
function roughFrequency(wav: string): number {
  // The stat effect reports on stderr.
  const r = spawnSync('sox', [wav, '-n', 'remix', '1', 'rate', '48k', 'trim', '0.5', '2', 'stat'], { encoding: 'utf8', timeout: 10_000 });
  const f = Number(/Rough\s+frequency:\s+(\d+)/.exec(r.stderr)?.[1] ?? NaN);
  if (!Number.isFinite(f)) throw new Error(`sox could not analyse ${wav}: ${r.stderr}`);
  return f;
}

function tshark(args: string[]): string {
  return execFileSync('tshark', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 30_000 });
}

class Capture {
  private constructor(private readonly child: ChildProcess, readonly file: string) {}

  static async start(file: string, portMin: number, portMax: number): Promise<Capture> {
    const child = spawn('tshark', ['-i', 'lo', '-w', file, '-f', `udp portrange ${portMin}-${portMax}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    await waitFor(() => err.includes('Capturing on') || child.exitCode !== null, 15_000, 'tshark to start capturing');
    if (child.exitCode !== null) throw new Error(`tshark failed: ${err}`);
    return new Capture(child, file);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    await sleep(500); // let the last datagrams be written
    this.child.kill('SIGINT');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }
}

describe('media engine with real baresip peers (PEERS.md)', function () {
  this.timeout(90_000);
  let dir: string;
  let engine: EmbeddedMediaEngine | undefined;
  let harness: MiniB2bua | undefined;
  let capture: Capture | undefined;
  const uas: BaresipUa[] = [];

  before(requireTools);
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-media-it-'));
  });
  afterEach(async () => {
    await capture?.stop();
    capture = undefined;
    for (const ua of uas.splice(0)) {
      await ua.stop();
      ua.remove();
    }
    harness?.close();
    harness = undefined;
    await engine?.close();
    engine = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A calls B through the harness; returns the engine ports of each leg once the call has ended. */
  async function call(aEnc: string | undefined, bEnc: string | undefined, flags: OfferFlags, aCodecs = 'PCMU') {
    const media = engineSettings({ inThread: false, workers: 1 });
    engine = new EmbeddedMediaEngine({ media });
    const a = await BaresipUa.start({ name: 'a', tone: 1000, mediaenc: aEnc, rtpPorts: '35000-35099', codecs: aCodecs });
    const b = await BaresipUa.start({ name: 'b', tone: 440, mediaenc: bEnc, rtpPorts: '35100-35199' });
    uas.push(a, b);
    harness = new MiniB2bua(engine, b.sipPort, flags);
    await harness.listen();
    capture = await Capture.start(path.join(dir, 'media.pcap'), media.portMin, media.portMax);
    a.command('dial', `sip:b@127.0.0.1:${harness.port}`);
    await waitFor(() => harness!.established, 15_000, `the call to be established; harness errors: ${harness.errors.join('; ')}\n${a.log().slice(-1500)}`);
    await sleep(CALL_MS);
    const stats = await engine.query(harness.callId!);
    a.command('hangup');
    await waitEvent(a, 'CALL_CLOSED', 5000);
    await waitEvent(b, 'CALL_CLOSED', 5000);
    await capture.stop();
    assert.deepEqual(harness.errors, []);
    const [legA, legB] = stats.legs;
    return { a, b, stats, aPort: legA!.streams[0]!.local.rtpPort, bPort: legB!.streams[0]!.local.rtpPort };
  }

  it('MUST carry 1 kHz SRTP → RTP and 440 Hz RTP → SRTP, with no plaintext tone on the SRTP leg (on the native fast path)', async () => {
    const { a, b, stats, aPort, bPort } = await call('srtp-mand', undefined, { transport: 'RTP/AVP' });
    const [legA, legB] = stats.legs.map((l) => l.streams[0]!);
    assert.equal(legA!.mode, 'srtp');
    assert.equal(legA!.suite, 'AES_CM_128_HMAC_SHA1_80');
    assert.equal(legB!.mode, 'rtp');
    assert.ok(legA!.rx.packets > 150 && legB!.rx.packets > 150, `media flowed: ${legA!.rx.packets} / ${legB!.rx.packets}`);
    assert.equal(legA!.srtpAuthFailures, 0);
    // The native fast path (media.fastPath: auto) carried nearly all of it: libsrtp's packets
    // decrypted there, and ours to libsrtp encrypted there, so the tones below prove it interoperates.
    assert.ok(legA!.rx.fastPackets > legA!.rx.packets - 20, `fast path: ${legA!.rx.fastPackets} of ${legA!.rx.packets} from the SRTP leg`);
    assert.ok(legB!.rx.fastPackets > legB!.rx.packets - 20, `fast path: ${legB!.rx.fastPackets} of ${legB!.rx.packets} from the plain leg`);
    await a.stop();
    await b.stop();
    const atB = roughFrequency(b.received()!);
    const atA = roughFrequency(a.received()!);
    assert.ok(Math.abs(atB - 1000) <= 30, `the plain side heard ${atB} Hz`);
    assert.ok(Math.abs(atA - 440) <= 20, `the SRTP side heard ${atA} Hz`);
    const count = (filter: string): number => tshark(['-r', capture!.file, '-Y', filter, '-T', 'fields', '-e', 'frame.number']).split('\n').filter((l) => l !== '').length;
    const onA = count(`udp.port==${aPort} && !sip`);
    const toneOnA = count(`udp.port==${aPort} && udp.payload contains ${TONE_PCMU}`);
    const toneOnB = count(`udp.port==${bPort} && udp.payload contains ${TONE_PCMU}`);
    assert.ok(onA > 150, `the SRTP leg carried ${onA} datagrams`);
    assert.equal(toneOnA, 0, 'no plaintext tone on the SRTP leg');
    assert.ok(toneOnB > 50, `the plain leg shows the tone in ${toneOnB} packets`);
  });

  it('MUST transcode Opus (SRTP leg) ↔ PCMU (plain leg) with the tones intact both ways', async () => {
    const flags: OfferFlags = { transport: 'RTP/AVP', codecs: { allow: ['PCMU'], transcode: true } };
    const { a, b, stats } = await call('srtp-mand', undefined, flags, 'opus/48000/2');
    const [legA, legB] = stats.legs.map((l) => l.streams[0]!);
    assert.equal(legA!.mode, 'srtp');
    assert.ok(legA!.rx.packets > 150 && legB!.rx.packets > 150, `media flowed: ${legA!.rx.packets} / ${legB!.rx.packets}`);
    assert.ok(legB!.tx.packets > 150 && legA!.tx.packets > 150, 'transcoded frames went out both ways');
    await a.stop();
    await b.stop();
    assert.match(a.log(), /Set audio encoder: opus/i);
    assert.match(b.log(), /Set audio encoder: PCMU/i);
    const atB = roughFrequency(b.received()!);
    const atA = roughFrequency(a.received()!);
    assert.ok(Math.abs(atB - 1000) <= 30, `the PCMU side heard ${atB} Hz`);
    assert.ok(Math.abs(atA - 440) <= 20, `the Opus side heard ${atA} Hz`);
  });

  it('MUST let two DTLS-SRTP endpoints handshake and talk through pass-through, bytes out == bytes in', async () => {
    const { a, b, stats, aPort, bPort } = await call('dtls_srtp', 'dtls_srtp', { transport: 'pass-through' });
    const [legA, legB] = stats.legs.map((l) => l.streams[0]!);
    assert.equal(legA!.mode, 'pass-through');
    assert.ok(legA!.rx.packets > 150 && legB!.rx.packets > 150, `media flowed: ${legA!.rx.packets} / ${legB!.rx.packets}`);
    await a.stop();
    await b.stop();
    assert.match(a.log() + b.log(), /dtls_srtp|DTLS/i);
    const atB = roughFrequency(b.received()!);
    const atA = roughFrequency(a.received()!);
    assert.ok(Math.abs(atB - 1000) <= 30, `B heard ${atB} Hz`);
    assert.ok(Math.abs(atA - 440) <= 20, `A heard ${atA} Hz`);
    // Every datagram the engine sent is one it received, unchanged (as a multiset of payloads).
    const rows = tshark(['-r', capture!.file, '-T', 'fields', '-e', 'udp.srcport', '-e', 'udp.dstport', '-e', 'udp.payload'])
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.split('\t'));
    const engine = new Set([aPort, aPort + 1, bPort, bPort + 1].map(String));
    const received = new Map<string, number>();
    let inCount = 0;
    let outCount = 0;
    for (const [src, dst, payload] of rows) if (engine.has(dst!) && !engine.has(src!)) {
      received.set(payload!, (received.get(payload!) ?? 0) + 1);
      inCount++;
    }
    for (const [src, dst, payload] of rows) if (engine.has(src!) && !engine.has(dst!)) {
      outCount++;
      const n = received.get(payload!) ?? 0;
      assert.ok(n > 0, `the engine sent a datagram it never received: ${payload!.slice(0, 40)}…`);
      received.set(payload!, n - 1);
    }
    assert.ok(outCount > 300, `${outCount} datagrams relayed`);
    assert.ok(inCount - outCount <= 10, `only packets before the answer may be dropped: in ${inCount}, out ${outCount}`);
    const dtls = rows.filter(([, , p]) => p !== undefined && /^1[4-7]fe/.test(p)).length; // DTLS 1.x record headers
    assert.ok(dtls >= 4, `the DTLS handshake went through the engine (${dtls} records)`);
  });
});
