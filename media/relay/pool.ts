/**
 * The relay threads and how calls are spread over them (issue "media plane" §7: media work in
 * worker threads, by default one per core minus one for signalling, at least one).
 *
 * Every stream of a call lives on one relay (its inactivity rule is per call); a new call goes to
 * the relay with the fewest calls. A slow or flooded call can thus only delay the calls that share
 * its worker, never signalling. In in-thread mode (threads = 0) a single RelayHost runs in the
 * calling thread: same code, no thread boundary, used by unit tests and small deployments.
 *
 * A worker that dies (it should not: every packet path is guarded) is replaced for new calls; the
 * calls it carried are reported through `onLost` so that the engine can end them.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { RelayHost } from './host';
import type { RelayCommand, RelayEvent, RelayReply, RelaySettings } from './protocol';

export interface RelayPoolOptions {
  /** Worker threads; 0 = in-thread mode. */
  readonly threads: number;
  readonly settings: RelaySettings;
  onEvent(event: RelayEvent): void;
  /** A relay thread died; `slot` is what `assign` returned for its calls. */
  onLost(slot: number, reason: string): void;
  /** Clock of the in-thread host (tests). */
  readonly now?: () => number;
}

interface Channel {
  request(cmd: RelayCommand): Promise<RelayReply>;
  close(): Promise<void>;
  calls: number;
}

export class RelayError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RelayError';
  }
}

class InThreadChannel implements Channel {
  calls = 0;
  constructor(readonly host: RelayHost) {}
  request(cmd: RelayCommand): Promise<RelayReply> {
    return this.host.handle(cmd);
  }
  close(): Promise<void> {
    this.host.close();
    return Promise.resolve();
  }
}

const WORKER_FILE = path.join(__dirname, 'worker.js');
const SHUTDOWN_MS = 5000;

class WorkerChannel implements Channel {
  calls = 0;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(r: RelayReply): void; reject(e: Error): void }>();
  private dead: string | undefined;
  readonly worker: Worker;

  constructor(settings: RelaySettings, onEvent: (e: RelayEvent) => void, onDeath: (reason: string) => void) {
    // @evan/opus (media/codecs) loads a native addon unless told otherwise; that addon crashes the
    // whole process (SIGSEGV) when a worker thread that loaded it exits. Its WebAssembly build is
    // safe in workers, so relay threads always use it.
    this.worker = new Worker(WORKER_FILE, { workerData: { settings }, env: { ...process.env, OPUS_FORCE_WASM: '1' } });
    this.worker.on('message', (m: { id?: number; ok?: boolean; reply?: RelayReply; error?: string; event?: RelayEvent }) => {
      if (m.event) return onEvent(m.event);
      const p = m.id === undefined ? undefined : this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id!);
      if (m.ok) p.resolve(m.reply ?? null);
      else p.reject(new RelayError(m.error ?? 'relay request failed'));
    });
    const die = (reason: string): void => {
      if (this.dead !== undefined) return;
      this.dead = reason;
      for (const p of this.pending.values()) p.reject(new RelayError(`media worker stopped: ${reason}`));
      this.pending.clear();
      onDeath(reason);
    };
    this.worker.on('error', (err) => die(err.message));
    this.worker.on('exit', (code) => die(`exit code ${code}`));
  }

  request(cmd: RelayCommand): Promise<RelayReply> {
    if (this.dead !== undefined) return Promise.reject(new RelayError(`media worker stopped: ${this.dead}`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, cmd });
      wipeKeys(cmd); // postMessage cloned them; this thread's wire copies are no longer needed
    });
  }

  async close(): Promise<void> {
    if (this.dead !== undefined) return;
    this.dead = 'closed';
    const id = this.nextId++;
    const done = new Promise<void>((resolve) => {
      this.worker.once('exit', () => resolve());
      this.worker.postMessage({ id, shutdown: true });
    });
    const timer = setTimeout(() => void this.worker.terminate(), SHUTDOWN_MS);
    await done;
    clearTimeout(timer);
  }
}

export class RelayPool {
  private readonly channels: Channel[] = [];
  private closed = false;

  constructor(private readonly options: RelayPoolOptions) {
    if (options.threads === 0) {
      this.channels.push(new InThreadChannel(new RelayHost({ ...options.settings, emit: (e) => options.onEvent(e), now: options.now })));
    } else {
      for (let i = 0; i < options.threads; i++) this.channels.push(this.spawn(i));
    }
  }

  get size(): number {
    return this.channels.length;
  }

  /** The in-thread host (in-thread mode only): tests drive its inactivity sweep on a fake clock. */
  get inThreadHost(): RelayHost | undefined {
    const c = this.channels[0];
    return c instanceof InThreadChannel ? c.host : undefined;
  }

  /** Picks the relay for a new call (fewest calls) and counts the call on it. */
  assign(): number {
    let best = 0;
    for (let i = 1; i < this.channels.length; i++) if (this.channels[i]!.calls < this.channels[best]!.calls) best = i;
    this.channels[best]!.calls++;
    return best;
  }

  release(slot: number): void {
    const c = this.channels[slot];
    if (c && c.calls > 0) c.calls--;
  }

  request(slot: number, cmd: RelayCommand): Promise<RelayReply> {
    if (this.closed) return Promise.reject(new RelayError('media relay is closed'));
    const c = this.channels[slot];
    if (!c) return Promise.reject(new RelayError(`no relay ${slot}`));
    return c.request(cmd);
  }

  /** `cmd` to every relay; the replies of those that answered, with their slot (a lost relay's is left out). */
  async requestAll(cmd: RelayCommand): Promise<{ readonly slot: number; readonly reply: RelayReply }[]> {
    if (this.closed) throw new RelayError('media relay is closed');
    const settled = await Promise.allSettled(this.channels.map((c) => c.request(cmd)));
    return settled.flatMap((r, slot) => (r.status === 'fulfilled' ? [{ slot, reply: r.value }] : []));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.channels.map((c) => c.close()));
  }

  private spawn(slot: number): WorkerChannel {
    // Its kernel rules carry its slot, so that a lost worker's can be taken away (forwarder.ts purge).
    const s = this.options.settings;
    const settings = s.kernel ? { ...s, kernel: { ...s.kernel, owner: slot + 1 } } : s;
    const ch = new WorkerChannel(settings, (e) => this.options.onEvent(e), (reason) => {
      if (this.closed || this.channels[slot] !== ch) return;
      this.options.onLost(slot, reason);
      this.channels[slot] = this.spawn(slot); // its calls are gone; new calls get a fresh worker
    });
    return ch;
  }
}

function wipeKeys(cmd: RelayCommand): void {
  if (cmd.op !== 'configure') return;
  for (const leg of cmd.stream.legs) {
    for (const k of [leg.srtpIn, leg.srtpOut]) {
      k?.masterKey?.fill(0);
      k?.masterSalt?.fill(0);
    }
  }
}
