/**
 * media.nice: each relay worker thread gives itself the configured nice value (setpriority(2) on its
 * own thread id), leaves the signalling thread and the rest of the process alone, and says in one
 * log line what it did, or why it could not. media.scheduling: the same for a real-time policy
 * (sched_setscheduler(2) through the I/O addon), which no process started later inherits.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { EmbeddedMediaEngine } from '../../../media/engine';
import type { Logger } from '../../../gateway/log/logger';
import { loadUdpIo } from '../../../media/relay/io/native';
import { currentThreadId, setThreadNice, setThreadRealtime, type NiceResult, type RealtimeResult } from '../../../media/relay/thread-priority';
import { MediaSettingsError, resolveMediaSettings } from '../../../media/engine/settings';
import { engineSettings } from '../engine/helpers';
import { hasCapSysNice, schedOf, threadSched, type Sched } from '../../helpers/sched';

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

/**
 * Runs setThreadRealtime(policy, priority) in a thread of its own; then that thread reads its own
 * policy back from the kernel and starts a process, whose policy it reports too.
 */
async function inRealtimeThread(policy: string, priority: number): Promise<{ result: RealtimeResult; own: Sched; child: Sched; release(): Promise<void> }> {
  const module = path.join(__dirname, '../../../media/relay/thread-priority.js');
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { execFileSync } = require('node:child_process');
    const fs = require('node:fs');
    const result = require(workerData.module).setThreadRealtime(workerData.policy, workerData.priority);
    const own = fs.readFileSync('/proc/thread-self/stat', 'utf8');
    const child = execFileSync('cat', ['/proc/self/stat'], { encoding: 'utf8' });
    parentPort.postMessage({ result, own, child });
    parentPort.once('message', () => process.exit(0));`;
  const w = new Worker(code, { eval: true, workerData: { module, policy, priority } });
  const got = await new Promise<{ result: RealtimeResult; own: string; child: string }>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  return { result: got.result, own: schedOf(got.own), child: schedOf(got.child), release: async () => void (await w.terminate()) };
}

interface Line { level: string; message: string; fields: Record<string, unknown> }
function recorder(lines: Line[]): Logger {
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => void lines.push({ level, message, fields: fields ?? {} });
  const logger: Logger = { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), child: () => logger, isLevelEnabled: () => true };
  return logger;
}

const linux = process.platform === 'linux' && fs.existsSync('/proc/thread-self');


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
      if (hasCapSysNice()) {
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

  describe('real-time policy (media.scheduling)', () => {
    before(function () {
      if (!loadUdpIo()) this.skip(); // the policy is set through the I/O addon
    });

    it('MUST put that thread only under SCHED_FIFO when privileged, else say what is needed; a process it starts does not inherit it', async () => {
      const { result, own, child, release } = await inRealtimeThread('fifo', 3);
      try {
        if (hasCapSysNice()) {
          assert.ok(result.ok, `refused with CAP_SYS_NICE: ${result.ok ? '' : result.reason}`);
          assert.deepEqual(own, { policy: 1, priority: 3 }, 'the kernel has the thread at SCHED_FIFO 3');
          assert.deepEqual(threadSched(result.thread), { policy: 1, priority: 3 });
          assert.deepEqual(child, { policy: 0, priority: 0 }, 'SCHED_RESET_ON_FORK: the child is back to SCHED_OTHER');
        } else {
          assert.equal(result.ok, false);
          if (!result.ok) assert.match(result.reason, /CAP_SYS_NICE or an RLIMIT_RTPRIO of at least 3/);
          assert.deepEqual(own, { policy: 0, priority: 0 }, 'refused: unchanged');
        }
        assert.deepEqual(threadSched(process.pid), { policy: 0, priority: 0 }, 'the main thread is untouched');
      } finally {
        await release();
      }
    });

    it('MUST give SCHED_RR when asked', async function () {
      if (!hasCapSysNice()) this.skip();
      const { result, own, release } = await inRealtimeThread('rr', 1);
      try {
        assert.ok(result.ok);
        assert.deepEqual(own, { policy: 2, priority: 1 });
      } finally {
        await release();
      }
    });

    it('MUST refuse a policy or priority outside sched(7)\'s with a reason, and change nothing', () => {
      for (const [policy, priority, reason] of [['fifo', 0, /1 to 99/], ['rr', 100, /1 to 99/], ['fifo', 2.5, /1 to 99/], ['batch', 5, /fifo or rr/], ['other', 5, /fifo or rr/]] as const) {
        const r = setThreadRealtime(policy as 'fifo', priority);
        assert.equal(r.ok, false, `${policy} ${priority}`);
        if (!r.ok) assert.match(r.reason, reason);
      }
      assert.deepEqual(threadSched(process.pid), { policy: 0, priority: 0 });
    });

    it('MUST say when the addon is missing or the kernel refuses, naming the errno', () => {
      assert.match((setThreadRealtime('fifo', 5, null) as { reason: string }).reason, /native I\/O addon/);
      const einval = { setRealtime: () => os.constants.errno.EINVAL, threadScheduling: () => ({ policy: 'other' as const, priority: 0 }) };
      assert.deepEqual(setThreadRealtime('fifo', 5, einval), { ok: false, reason: 'EINVAL' });
      const ignored = { setRealtime: () => 0, threadScheduling: () => ({ policy: 'other' as const, priority: 0 }) };
      assert.deepEqual(setThreadRealtime('rr', 5, ignored), { ok: false, reason: 'the thread reads back other 0' });
    });

    it('MUST have the addon check its arguments itself', () => {
      const addon = loadUdpIo()!;
      assert.throws(() => addon.setRealtime('idle' as 'fifo', 1), TypeError);
      assert.throws(() => addon.setRealtime('fifo', 0), /1\.\.99/);
      assert.throws(() => addon.setRealtime('other', 3), /0 for other/);
      assert.deepEqual(addon.threadScheduling(), { policy: 'other', priority: 0 });
    });

    it('MUST resolve the settings: off by default, priority 10 by default, out of range refused', () => {
      const base = engineSettings({});
      assert.equal(resolveMediaSettings(base).realtime, undefined);
      assert.deepEqual(resolveMediaSettings({ ...base, scheduling: 'fifo' }).realtime, { policy: 'fifo', priority: 10 });
      assert.deepEqual(resolveMediaSettings({ ...base, scheduling: 'rr', rtPriority: 42 }).realtime, { policy: 'rr', priority: 42 });
      assert.throws(() => resolveMediaSettings({ ...base, scheduling: 'fifo', rtPriority: 0 }), MediaSettingsError);
      assert.throws(() => resolveMediaSettings({ ...base, scheduling: 'batch' as 'fifo' }), MediaSettingsError);
    });
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

    it('MUST give every relay worker thread media.scheduling, one log line each, and leave signalling alone', async function () {
      if (!loadUdpIo()) this.skip();
      const lines: Line[] = [];
      engine = new EmbeddedMediaEngine({ media: engineSettings({ inThread: false, workers: 2, scheduling: 'fifo', rtPriority: 4 }), logger: recorder(lines) });
      const said = await linesOf(lines, /relay thread scheduling (set|not set)/, 2);
      assert.equal(said.length, 2, JSON.stringify(lines));
      if (hasCapSysNice()) {
        const threads = new Set(said.map((l) => l.fields.thread as number));
        assert.equal(threads.size, 2, 'two distinct threads');
        for (const l of said) {
          assert.equal(l.level, 'info');
          assert.deepEqual([l.fields.policy, l.fields.priority], ['fifo', 4]);
          assert.deepEqual(threadSched(l.fields.thread as number), { policy: 1, priority: 4 });
        }
      } else {
        for (const l of said) assert.equal(l.level, 'warn');
      }
      assert.deepEqual(threadSched(process.pid), { policy: 0, priority: 0 }, 'signalling stays with the fair scheduler');
      await engine.queueDelay(); // a round trip to each worker: they still answer
    });

    it('MUST warn when real-time relay threads would hold every core, and only then; in-thread mode leaves it unused', async () => {
      const lines = async (media: Parameters<typeof engineSettings>[0], cpus: number): Promise<Line[]> => {
        const out: Line[] = [];
        const e = new EmbeddedMediaEngine({ media: engineSettings(media), logger: recorder(out), cpus });
        await e.close();
        return out;
      };
      const every = (await lines({ inThread: false, workers: 2, scheduling: 'rr' }, 2)).filter((l) => l.level === 'warn' && /real-time relay threads on every core/.test(l.message));
      assert.equal(every.length, 1);
      assert.deepEqual(every[0]!.fields, { scheduling: 'rr', workers: 2, cores: 2 });
      assert.equal((await lines({ inThread: false, workers: 1, scheduling: 'rr' }, 2)).filter((l) => /every core/.test(l.message)).length, 0, 'a core left for signalling');
      const before = threadSched(process.pid);
      const inThread = (await lines({ inThread: true, scheduling: 'fifo' }, 2)).filter((l) => /media.scheduling applies to relay worker threads/.test(l.message));
      assert.equal(inThread.length, 1);
      assert.deepEqual(threadSched(process.pid), before, 'the signalling thread is never made real-time');
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
