/**
 * media.nice: each relay worker thread gives itself the configured nice value (setpriority(2) on its
 * own thread id), leaves the signalling thread and the rest of the process alone, and says in one
 * log line what it did, or why it could not.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { EmbeddedMediaEngine } from '../../../media/engine';
import type { Logger } from '../../../gateway/log/logger';
import { currentThreadId, setThreadNice, type NiceResult } from '../../../media/relay/thread-priority';
import { engineSettings } from '../engine/helpers';

/** Runs setThreadNice(nice) in a thread of its own, which then stays alive until `release`. */
async function inThread(nice: number): Promise<{ result: NiceResult; release(): Promise<void> }> {
  const module = path.join(__dirname, '../../../media/relay/thread-priority.js');
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    parentPort.postMessage(require(workerData.module).setThreadNice(workerData.nice));
    parentPort.once('message', () => process.exit(0));`;
  const w = new Worker(code, { eval: true, workerData: { module, nice } });
  const result = await new Promise<NiceResult>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  return { result, release: async () => void (await w.terminate()) };
}

interface Line { level: string; message: string; fields: Record<string, unknown> }
function recorder(lines: Line[]): Logger {
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => void lines.push({ level, message, fields: fields ?? {} });
  const logger: Logger = { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), child: () => logger, isLevelEnabled: () => true };
  return logger;
}

const linux = process.platform === 'linux' && fs.existsSync('/proc/thread-self');

/** Whether this process may raise a thread's priority: CAP_SYS_NICE (bit 23) in its effective set, root or not. */
function mayRaisePriority(): boolean {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m !== null && (BigInt(`0x${m[1]}`) & (1n << 23n)) !== 0n;
}

describe('relay thread priority (media.nice)', () => {
  before(function () {
    if (!linux) this.skip();
  });

  it('MUST find the calling thread\'s own id, not the process\'s, in a worker', async () => {
    assert.equal(currentThreadId(), process.pid, 'the main thread\'s task id is the pid');
    const { result, release } = await inThread(0);
    try {
      assert.equal(result.ok, true);
      if (result.ok) assert.notEqual(result.thread, process.pid);
    } finally {
      await release();
    }
  });

  it('MUST change that thread only', async () => {
    const before = os.getPriority(process.pid);
    const { result, release } = await inThread(7);
    try {
      assert.ok(result.ok, `refused: ${result.ok ? '' : result.reason}`);
      assert.equal(result.nice, 7);
      assert.equal(os.getPriority(result.thread), 7, 'getpriority(2) on the thread gives 7');
      assert.equal(os.getPriority(process.pid), before, 'the main thread is untouched');
    } finally {
      await release();
    }
  });

  it('MUST refuse a value outside -20..19 with a reason, and change nothing', () => {
    const before = os.getPriority(process.pid);
    for (const bad of [-21, 20, 1.5, Number.NaN]) {
      const r = setThreadNice(bad);
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.reason, /integer from -20 to 19/);
    }
    assert.equal(os.getPriority(process.pid), before);
  });

  it('MUST favour a thread when privileged, and otherwise say that CAP_SYS_NICE is needed', async () => {
    const { result, release } = await inThread(-3);
    try {
      if (mayRaisePriority()) {
        assert.ok(result.ok, `refused with CAP_SYS_NICE: ${result.ok ? '' : result.reason}`);
        assert.equal(os.getPriority(result.thread), -3);
      } else {
        assert.equal(result.ok, false);
        if (!result.ok) assert.match(result.reason, /CAP_SYS_NICE/);
      }
    } finally {
      await release();
    }
  });

  describe('EmbeddedMediaEngine', () => {
    let engine: EmbeddedMediaEngine | undefined;
    afterEach(async () => {
      await engine?.close();
      engine = undefined;
    });

    /** Waits until `count` lines with `message` have been logged. */
    async function linesOf(lines: Line[], message: RegExp, count: number): Promise<Line[]> {
      const end = Date.now() + 5000;
      for (;;) {
        const found = lines.filter((l) => message.test(l.message));
        if (found.length >= count || Date.now() > end) return found;
        await new Promise((r) => setTimeout(r, 10));
      }
    }

    it('MUST give every relay worker thread media.nice, one log line each, and leave signalling alone', async () => {
      const lines: Line[] = [];
      const before = os.getPriority(process.pid);
      engine = new EmbeddedMediaEngine({ media: engineSettings({ inThread: false, workers: 2, nice: 6 }), logger: recorder(lines) });
      const set = await linesOf(lines, /relay thread priority set/, 2);
      assert.equal(set.length, 2, JSON.stringify(lines));
      const threads = new Set(set.map((l) => l.fields.thread as number));
      assert.equal(threads.size, 2, 'two distinct threads');
      for (const l of set) {
        assert.equal(l.level, 'info');
        assert.equal(l.fields.nice, 6);
        assert.equal(os.getPriority(l.fields.thread as number), 6);
      }
      assert.equal(os.getPriority(process.pid), before);
    });

    it('MUST leave the threads alone when media.nice is null', async () => {
      const lines: Line[] = [];
      engine = new EmbeddedMediaEngine({ media: engineSettings({ inThread: false, workers: 1, nice: null }), logger: recorder(lines) });
      await engine.queueDelay(); // a round trip to the worker: it has started
      assert.equal(lines.filter((l) => /priority/.test(l.message)).length, 0);
    });

    it('MUST warn when favoured relay threads would hold every core (a flood could starve signalling), and only then', async () => {
      const warned = async (nice: number, workers: number, cpus: number): Promise<Line[]> => {
        const lines: Line[] = [];
        const e = new EmbeddedMediaEngine({ media: engineSettings({ inThread: false, workers, nice }), logger: recorder(lines), cpus });
        await e.close();
        return lines.filter((l) => l.level === 'warn' && /starve signalling/.test(l.message));
      };
      const every = await warned(-2, 2, 2);
      assert.equal(every.length, 1);
      assert.deepEqual(every[0]!.fields, { nice: -2, workers: 2, cores: 2 });
      assert.equal((await warned(-2, 1, 2)).length, 0, 'a core left for signalling');
      assert.equal((await warned(3, 2, 2)).length, 0, 'not favoured');
    });

    it('MUST say that in-thread mode does not use it', async () => {
      const lines: Line[] = [];
      const before = os.getPriority(process.pid);
      engine = new EmbeddedMediaEngine({ media: engineSettings({ inThread: true, nice: 4 }), logger: recorder(lines) });
      const said = lines.filter((l) => /applies to relay worker threads/.test(l.message));
      assert.equal(said.length, 1);
      assert.equal(said[0]!.fields.nice, 4);
      assert.equal(os.getPriority(process.pid), before, 'the signalling thread keeps its priority');
    });
  });
});
