/**
 * rtpengine (Debian rtpengine-daemon, userspace: --table=-1) as the comparison backend of the media
 * benchmarks: the daemon in the foreground on loopback, and a minimal client of its ng control
 * protocol (bencode dictionaries over UDP, each prefixed by a cookie the reply echoes).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { processCpuMicros } from './threads';
import { rtpengineScheduling, type RelayPriority } from './priority';

export type Bencode = string | number | Bencode[] | { [key: string]: Bencode };

export function bencode(v: Bencode): Buffer {
  if (typeof v === 'number') return Buffer.from(`i${Math.trunc(v)}e`);
  if (typeof v === 'string') {
    const b = Buffer.from(v, 'utf8');
    return Buffer.concat([Buffer.from(`${b.length}:`), b]);
  }
  if (Array.isArray(v)) return Buffer.concat([Buffer.from('l'), ...v.map(bencode), Buffer.from('e')]);
  const keys = Object.keys(v).sort();
  return Buffer.concat([Buffer.from('d'), ...keys.flatMap((k) => [bencode(k), bencode(v[k]!)]), Buffer.from('e')]);
}

/** Decodes one bencoded value at `at`; strings are returned as UTF-8 text. Bounded by the input. */
export function bdecode(b: Buffer, at = 0): { value: Bencode; end: number } {
  const c = b[at];
  if (c === 0x69) {
    const e = b.indexOf(0x65, at);
    if (e < 0) throw new Error('bencode: unterminated integer');
    return { value: Number(b.toString('latin1', at + 1, e)), end: e + 1 };
  }
  if (c === 0x6c || c === 0x64) {
    const list: Bencode[] = [];
    let i = at + 1;
    while (i < b.length && b[i] !== 0x65) {
      const r = bdecode(b, i);
      list.push(r.value);
      i = r.end;
    }
    if (i >= b.length) throw new Error('bencode: unterminated list');
    if (c === 0x6c) return { value: list, end: i + 1 };
    const dict: Record<string, Bencode> = {};
    for (let k = 0; k + 1 < list.length; k += 2) dict[String(list[k])] = list[k + 1]!;
    return { value: dict, end: i + 1 };
  }
  const colon = b.indexOf(0x3a, at);
  if (colon < 0) throw new Error('bencode: bad string');
  const len = Number(b.toString('latin1', at, colon));
  if (!Number.isInteger(len) || colon + 1 + len > b.length) throw new Error('bencode: bad string length');
  return { value: b.toString('utf8', colon + 1, colon + 1 + len), end: colon + 1 + len };
}

export function rtpengineInstalled(): boolean {
  return spawnSync('sh', ['-c', 'command -v rtpengine'], { stdio: 'ignore' }).status === 0;
}

export class RtpengineNg {
  private readonly socket = dgram.createSocket('udp4');
  private readonly pending = new Map<string, (reply: Record<string, Bencode>) => void>();

  private constructor(
    private readonly child: ChildProcess,
    private readonly port: number,
  ) {
    this.socket.on('message', (m) => {
      const space = m.indexOf(0x20);
      if (space < 0) return;
      const cookie = m.toString('latin1', 0, space);
      const done = this.pending.get(cookie);
      if (!done) return;
      this.pending.delete(cookie);
      done(bdecode(m, space + 1).value as Record<string, Bencode>);
    });
  }

  /**
   * Starts the daemon in userspace on 127.0.0.1 and waits until it answers a ping. `priority`: its
   * poller threads' (--scheduling=other|fifo --priority=N, bench/priority.ts); none = its default.
   */
  static async start(ngPort: number, portMin: number, portMax: number, priority: RelayPriority = {}): Promise<RtpengineNg> {
    const child = spawn('rtpengine', [
      '--foreground', '--table=-1', '--interface=127.0.0.1', `--listen-ng=127.0.0.1:${ngPort}`,
      `--port-min=${portMin}`, `--port-max=${portMax}`, '--log-stderr', '--log-level=3', '--delete-delay=0',
      ...rtpengineScheduling(priority),
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    const ng = new RtpengineNg(child, ngPort);
    await new Promise<void>((r) => ng.socket.bind(0, '127.0.0.1', r));
    for (let i = 0; i < 50; i++) {
      if (child.exitCode !== null) break;
      try {
        const r = await ng.command({ command: 'ping' }, 200);
        if (r.result === 'pong') return ng;
      } catch {
        // not up yet
      }
    }
    await ng.close();
    throw new Error(`rtpengine did not start: ${err}`);
  }

  /** The daemon's process id. */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** CPU time the daemon has used (all its threads), microseconds, from /proc (Linux). */
  cpuMicros(): number {
    return processCpuMicros(this.pid);
  }

  command(dict: Record<string, Bencode>, timeoutMs = 5000): Promise<Record<string, Bencode>> {
    const cookie = randomBytes(6).toString('hex');
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.pending.delete(cookie);
        reject(new Error(`rtpengine: no reply to ${String(dict.command)}`));
      }, timeoutMs);
      this.pending.set(cookie, (r) => {
        clearTimeout(t);
        resolve(r);
      });
      this.socket.send(Buffer.concat([Buffer.from(`${cookie} `), bencode(dict)]), this.port, '127.0.0.1');
    });
  }

  async offer(callId: string, fromTag: string, sdp: string, transport: string): Promise<string> {
    const r = await this.command({ command: 'offer', 'call-id': callId, 'from-tag': fromTag, sdp, 'transport-protocol': transport, ICE: 'remove' });
    if (r.result !== 'ok') throw new Error(`rtpengine offer: ${String(r['error-reason'] ?? r.result)}`);
    return String(r.sdp);
  }

  async answer(callId: string, fromTag: string, toTag: string, sdp: string): Promise<string> {
    const r = await this.command({ command: 'answer', 'call-id': callId, 'from-tag': fromTag, 'to-tag': toTag, sdp, ICE: 'remove' });
    if (r.result !== 'ok') throw new Error(`rtpengine answer: ${String(r['error-reason'] ?? r.result)}`);
    return String(r.sdp);
  }

  async delete(callId: string): Promise<void> {
    await this.command({ command: 'delete', 'call-id': callId }).catch(() => undefined);
  }

  async close(): Promise<void> {
    this.socket.close();
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }
}
