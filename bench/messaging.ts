/**
 * End-to-end SIP MESSAGE throughput through one gateway process (a child process on loopback,
 * `ciphergate start`), TLS everywhere, digest on every MESSAGE (RFC 3428 §7, 407 once per sender,
 * then the nonce reused with the next nc, RFC 7616 §3.4):
 *
 * - online: SENDERS connections keep WINDOW MESSAGEs each in flight to RECEIVERS registered
 *   devices that answer 200; the figure is answered-200 messages per second (median of the
 *   per-second counts, the first WARMUP seconds dropped), each one a full sender → gateway →
 *   device → gateway → sender round trip;
 * - offline → deliver: OFFLINE_TOTAL MESSAGEs to users who are not registered (each one sealed,
 *   committed to disk before its 202), then those users register and get their backlog; figures:
 *   stored per second (202s), delivered per second (from the first REGISTER to the last MESSAGE
 *   received), and the whole path (messages / (store time + deliver time)).
 *
 * The load generator shares the machine's cores with the gateway; the gateway's own CPU time per
 * message is reported as well (from /proc), with the messages/s one fully busy core gives.
 * Target (issue 6): ≥ 5,000 messages/s.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { DigestClient } from '../gateway/sip/digest';
import { provision } from '../test/integration/peers/gateway';
import { startChildGateway, type ChildGateway } from '../test/messaging/child-gateway';
import { calibrationJsonParseNs } from './calibration';
import { median } from './median';

const DOMAIN = 'localhost';
const SENDERS = Number(process.env.BENCH_SENDERS ?? 4);
const RECEIVERS = Number(process.env.BENCH_RECEIVERS ?? 8);
const WINDOW = Number(process.env.BENCH_WINDOW ?? 64);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 12);
/** Seconds of warm-up (JIT, the first 407 per sender) left out of the median. */
const WARMUP = 3;
const OFFLINE_TOTAL = Number(process.env.BENCH_OFFLINE ?? 20_000);
const PASSWORD = 'Bench-Messaging-Pw-2026';
const BODY = 'The quick brown fox jumps over the lazy dog: a typical short chat message, 96 bytes long.....';

/** One TLS connection speaking just enough SIP: framing by Content-Length, no full parse. */
class BenchConn {
  private buf: Buffer = Buffer.alloc(0);
  private cseq = 0;
  private readonly callId: string;
  private readonly digest: DigestClient;
  private readonly pending = new Map<number, (status: number, head: string) => void>();
  received = 0;

  private constructor(readonly user: string, private readonly s: tls.TLSSocket, readonly id: number) {
    this.callId = `bench-${user}-${id}-${Date.now()}`;
    this.digest = new DigestClient({ username: user, password: PASSWORD, realm: DOMAIN });
    s.on('data', (d: Buffer) => this.onData(d));
    s.on('error', () => undefined);
  }

  static async open(gw: ChildGateway, user: string, id: number): Promise<BenchConn> {
    const s = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const t = tls.connect({ host: '127.0.0.1', port: gw.tlsPort, ca: gw.ca, servername: 'localhost' }, () => resolve(t));
      t.once('error', reject);
    });
    return new BenchConn(user, s, id);
  }

  private request(method: string, uri: string, to: string, extra: string, body: string): Promise<{ status: number; head: string }> {
    const seq = ++this.cseq;
    const text =
      `${method} ${uri} SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:${this.s.localPort};branch=z9hG4bK${this.id}x${seq}x${this.callId.length}\r\n` +
      `Max-Forwards: 70\r\nFrom: <sip:${this.user}@${DOMAIN}>;tag=t${this.id}\r\nTo: <${to}>\r\nCall-ID: ${this.callId}\r\n` +
      `CSeq: ${seq} ${method}\r\n${extra}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    return new Promise((resolve) => {
      this.pending.set(seq, (status, head) => resolve({ status, head }));
      this.s.write(text);
    });
  }

  async register(): Promise<void> {
    const uri = `sip:${DOMAIN}`;
    const contact = `Contact: <sip:${this.user}@127.0.0.1:${this.s.localPort};transport=tls>;+sip.instance="<urn:uuid:00000000-0000-4000-8000-${String(this.id).padStart(12, '0')}>";reg-id=1\r\nSupported: outbound\r\nExpires: 600\r\n`;
    const first = await this.request('REGISTER', uri, `sip:${this.user}@${DOMAIN}`, contact, '');
    const auth = this.digest.respond({ status: 401, challenges: headerValues(first.head, 'WWW-Authenticate'), method: 'REGISTER', uri });
    const res = await this.request('REGISTER', uri, `sip:${this.user}@${DOMAIN}`, `${contact}Authorization: ${auth[0]!.value}\r\n`, '');
    if (res.status !== 200) throw new Error(`${this.user}: REGISTER answered ${res.status}`);
  }

  /** One MESSAGE with proxy credentials (answering a 407 once); resolves with the final status. */
  async message(to: string): Promise<number> {
    const uri = `sip:${to}@${DOMAIN}`;
    const creds = this.digest.authorize({ method: 'MESSAGE', uri }).filter((h) => h.name === 'Proxy-Authorization');
    const extra = `Content-Type: text/plain\r\n${creds.map((c) => `Proxy-Authorization: ${c.value}\r\n`).join('')}`;
    const res = await this.request('MESSAGE', uri, uri, extra, BODY);
    if (res.status !== 407) return res.status;
    const auth = this.digest.respond({ status: 407, challenges: headerValues(res.head, 'Proxy-Authenticate'), method: 'MESSAGE', uri, sent: creds.map((c) => c.value) });
    return (await this.request('MESSAGE', uri, uri, `Content-Type: text/plain\r\nProxy-Authorization: ${auth[0]!.value}\r\n`, BODY)).status;
  }

  close(): void {
    this.s.destroy();
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    for (;;) {
      while (this.buf.length >= 2 && this.buf[0] === 13 && this.buf[1] === 10) this.buf = this.buf.subarray(2);
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = this.buf.toString('latin1', 0, end);
      const cl = /\r\nContent-Length: (\d+)/i.exec(head);
      const total = end + 4 + (cl === null ? 0 : Number(cl[1]));
      if (this.buf.length < total) return;
      this.buf = this.buf.subarray(total);
      if (head.startsWith('SIP/2.0 ')) {
        const status = Number(head.slice(8, 11));
        if (status < 200) continue;
        const seq = Number(/\r\nCSeq: (\d+)/.exec(head)?.[1]);
        const done = this.pending.get(seq);
        this.pending.delete(seq);
        done?.(status, head);
      } else {
        this.answer(head);
      }
    }
  }

  /** 200 to a MESSAGE from the gateway: Via, From, To (+tag), Call-ID, CSeq copied (RFC 3261 §8.2.6.2). */
  private answer(head: string): void {
    this.received++;
    let out = 'SIP/2.0 200 OK\r\n';
    for (const line of head.split('\r\n')) {
      if (line.startsWith('Via:') || line.startsWith('From:') || line.startsWith('Call-ID:') || line.startsWith('CSeq:')) out += `${line}\r\n`;
      else if (line.startsWith('To:')) out += `${line};tag=r${this.id}\r\n`;
    }
    this.s.write(`${out}Content-Length: 0\r\n\r\n`);
  }
}

function headerValues(head: string, name: string): string[] {
  const prefix = `${name.toLowerCase()}:`;
  return head.split('\r\n').filter((l) => l.toLowerCase().startsWith(prefix)).map((l) => l.slice(prefix.length).trim());
}

function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}


async function waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Senders keep WINDOW messages each in flight to `targets` until `stop()` says so. */
function drive(senders: BenchConn[], targets: string[], stop: (sent: number) => boolean, onStatus: (s: number) => void): Promise<void> {
  let sent = 0;
  const loop = async (c: BenchConn, lane: number): Promise<void> => {
    while (!stop(sent)) {
      const n = sent++;
      onStatus(await c.message(targets[(n + lane) % targets.length]!));
    }
  };
  return Promise.all(senders.flatMap((c, i) => Array.from({ length: WINDOW }, (_, k) => loop(c, i * WINDOW + k)))).then(() => undefined);
}

export async function run(): Promise<Record<string, number | string | boolean>> {
  const calibrationBefore = calibrationJsonParseNs();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-bench-msg-'));
  const users: Record<string, string> = {};
  for (let i = 0; i < SENDERS; i++) users[`s${i}`] = PASSWORD;
  for (let i = 0; i < RECEIVERS; i++) users[`r${i}`] = PASSWORD;
  for (let i = 0; i < RECEIVERS; i++) users[`q${i}`] = PASSWORD;
  await provision(dataDir, DOMAIN, users);
  const gw = await startChildGateway(dataDir, [`sip.domain=${DOMAIN}`]);
  const pid = gw.child.pid!;
  const conns: BenchConn[] = [];
  try {
    // Online: registered receivers answer 200.
    const receivers = await Promise.all(Array.from({ length: RECEIVERS }, (_, i) => BenchConn.open(gw, `r${i}`, 100 + i)));
    conns.push(...receivers);
    for (const r of receivers) await r.register();
    const senders = await Promise.all(Array.from({ length: SENDERS }, (_, i) => BenchConn.open(gw, `s${i}`, i)));
    conns.push(...senders);
    let ok = 0;
    let bad = 0;
    let stopOnline = false;
    const cpu0 = cpuSeconds(pid);
    const gen0 = process.cpuUsage();
    const online = drive(senders, receivers.map((r) => r.user), () => stopOnline, (s) => (s === 200 ? ok++ : bad++));
    const perSecond: number[] = [];
    for (let s = 0; s < SECONDS; s++) {
      const before = ok;
      await new Promise((r) => setTimeout(r, 1000));
      perSecond.push(ok - before);
    }
    stopOnline = true;
    await online;
    const onlineCpu = cpuSeconds(pid) - cpu0;
    const gen = process.cpuUsage(gen0);
    const generatorCpu = (gen.user + gen.system) / 1e6;
    const onlineDelivered = receivers.reduce((a, r) => a + r.received, 0);

    // Offline → deliver: users q* are not registered; everything is stored, then delivered.
    const offlineTargets = Array.from({ length: RECEIVERS }, (_, i) => `q${i}`);
    let stored = 0;
    let refused = 0;
    const cpu1 = cpuSeconds(pid);
    const t0 = performance.now();
    await drive(senders, offlineTargets, (sent) => sent >= OFFLINE_TOTAL, (s) => (s === 202 ? stored++ : refused++));
    const storeMs = performance.now() - t0;
    const late = await Promise.all(offlineTargets.map((u, i) => BenchConn.open(gw, u, 200 + i)));
    conns.push(...late);
    const t1 = performance.now();
    await Promise.all(late.map((c) => c.register()));
    await waitUntil(() => late.reduce((a, c) => a + c.received, 0) >= stored, 90_000, 'stored messages to be delivered');
    const deliverMs = performance.now() - t1;
    const offlineCpu = cpuSeconds(pid) - cpu1;
    const delivered = late.reduce((a, c) => a + c.received, 0);

    const onlineTotal = perSecond.reduce((a, b) => a + b, 0);
    const onlineCpuUs = (onlineCpu * 1e6) / Math.max(1, onlineTotal);
    const offlineCpuUs = (offlineCpu * 1e6) / Math.max(1, stored);
    return {
      online_msgs_per_s: median(perSecond.slice(WARMUP)) || 0, // no second past the warm-up: 0, as before
      online_per_second: perSecond.join(' '),
      online_non200: bad,
      online_delivered: onlineDelivered,
      online_gateway_cpu_us_per_msg: +onlineCpuUs.toFixed(1),
      online_capacity_one_core: Math.round(1e6 / onlineCpuUs),
      online_generator_cpu_us_per_msg: +((generatorCpu * 1e6) / Math.max(1, onlineTotal)).toFixed(1),
      offline_stored: stored,
      offline_refused: refused,
      offline_store_msgs_per_s: Math.round((stored * 1000) / storeMs),
      offline_deliver_msgs_per_s: Math.round((delivered * 1000) / deliverMs),
      offline_to_deliver_msgs_per_s: Math.round((delivered * 1000) / (storeMs + deliverMs)),
      offline_delivered: delivered,
      offline_gateway_cpu_us_per_msg: +offlineCpuUs.toFixed(1),
      offline_capacity_one_core: Math.round(1e6 / offlineCpuUs),
      target_msgs_per_s: 5000,
      calibration_json_parse_ns: Math.round((calibrationBefore + calibrationJsonParseNs()) / 2),
      load_average_1m: +os.loadavg()[0]!.toFixed(2),
      senders: SENDERS,
      receivers: RECEIVERS,
      window: WINDOW,
    };
  } finally {
    for (const c of conns) c.close();
    await gw.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
