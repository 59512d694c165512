/**
 * media.sliceUs: each relay worker thread asks the kernel for a shorter scheduling slice (Linux
 * 6.12+ EEVDF, sched_setattr(2) through the socket addon), keeps its policy and nice, leaves the
 * signalling thread alone, and says in one log line what it did, or why it could not.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { EmbeddedMediaEngine } from '../../../media/engine';
import { resolveMediaSettings, MediaSettingsError } from '../../../media/engine/settings';
import type { Logger } from '../../../gateway/log/logger';
import { loadUdpIo } from '../../../media/relay/io/native';
import { setThreadSlice, type SliceResult } from '../../../media/relay/thread-priority';
import { engineSettings } from '../engine/helpers';

const addon = loadUdpIo();
const linux = process.platform === 'linux' && fs.existsSync('/proc/thread-self');
/** Whether this kernel keeps a fair task's own slice (EEVDF custom slices, Linux 6.12+). */
const kernelSlices = ((): boolean => {
  const m = /^(\d+)\.(\d+)/.exec(os.release());
  return m !== null && (Number(m[1]) > 6 || (Number(m[1]) === 6 && Number(m[2]) >= 12));
})();

/** Runs setThreadSlice(us) in a thread of its own, which then stays alive until `release`. */
async function inThread(us: number, nice?: number): Promise<{ result: SliceResult; release(): Promise<void> }> {
  const module = path.join(__dirname, '../../../media/relay/thread-priority.js');
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const m = require(workerData.module);
    if (workerData.nice !== undefined) m.setThreadNice(workerData.nice);
    parentPort.postMessage(m.setThreadSlice(workerData.us));
    parentPort.once('message', () => process.exit(0));`;
  const w = new Worker(code, { eval: true, workerData: { module, us, nice } });
  const result = await new Promise<SliceResult>((resolve, reject) => {
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

describe('relay thread scheduling slice (media.sliceUs)', () => {
  before(function () {
    if (!linux) this.skip();
    assert.ok(addon, 'the socket I/O addon is built by npm run build');
  });

  it('MUST give that thread the slice and keep its nice, and leave the main thread alone', async () => {
    const mainBefore = addon!.getSchedSlice(process.pid);
    const { result, release } = await inThread(250, 5);
    try {
      if (!kernelSlices) {
        assert.equal(result.ok, false);
        if (!result.ok) assert.match(result.reason, /Linux 6\.12/);
        return;
      }
      assert.ok(result.ok, `refused: ${result.ok ? '' : result.reason}`);
      assert.equal(result.sliceUs, 250);
      assert.notEqual(result.thread, process.pid);
      assert.equal(addon!.getSchedSlice(result.thread), 250, 'sched_getattr(2) on the thread reads 250 µs');
      assert.equal(os.getPriority(result.thread), 5, 'its nice value is kept');
      assert.equal(addon!.getSchedSlice(process.pid), mainBefore, 'the main thread is untouched');
    } finally {
      await release();
    }
  });

  it('MUST refuse a slice outside 100..100000 µs with a reason, and change nothing', () => {
    const before = addon!.getSchedSlice(process.pid);
    for (const bad of [0, 99, 100_001, 1.5, Number.NaN]) {
      const r = setThreadSlice(bad);
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.reason, /100 to 100000/);
    }
    assert.equal(addon!.getSchedSlice(process.pid), before);
  });

  it('the addon MUST check its arguments, and name a thread that does not exist by its errno', () => {
    assert.throws(() => addon!.setSchedSlice(-1, 100), TypeError);
    assert.throws(() => addon!.setSchedSlice(0, 100_001), /0\.\.100000/);
    assert.throws(() => addon!.getSchedSlice('1' as unknown as number), TypeError);
    assert.equal(addon!.getSchedSlice(4_194_304), -os.constants.errno.ESRCH);
    assert.equal(addon!.setSchedSlice(4_194_304, 100), os.constants.errno.ESRCH);
  });

  it('media settings MUST refuse 1..99 and over 100000 µs with a message naming media.sliceUs, and default to 0', () => {
    const base = engineSettings({});
    for (const bad of [1, 99, 100_001]) assert.throws(() => resolveMediaSettings({ ...base, sliceUs: bad }), (e: unknown) => e instanceof MediaSettingsError && /media\.sliceUs/.test(e.message));
    assert.equal(resolveMediaSettings({ ...base, sliceUs: 100 }).sliceUs, 100);
    assert.equal(resolveMediaSettings({ ...base, sliceUs: undefined }).sliceUs, 0);
  });

  describe('EmbeddedMediaEngine', () => {
    let engine: EmbeddedMediaEngine | undefined;
    afterEach(async () => {
      await engine?.close();
      engine = undefined;
    });

    it('MUST give every relay worker thread media.sliceUs, one log line each, and leave signalling alone', async function () {
      if (!kernelSlices) this.skip(); // older kernels: the warning path, tested above through setThreadSlice
      const lines: Line[] = [];
      const before = addon!.getSchedSlice(process.pid);
      engine = new EmbeddedMediaEngine({ media: engineSettings({ inThread: false, workers: 2, sliceUs: 300 }), logger: recorder(lines) });
      const end = Date.now() + 5000;
      let set: Line[] = [];
      while (set.length < 2 && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 10));
        set = lines.filter((l) => /scheduling slice set/.test(l.message));
      }
      assert.equal(set.length, 2, JSON.stringify(lines));
      assert.equal(new Set(set.map((l) => l.fields.thread)).size, 2, 'two distinct threads');
      for (const l of set) {
        assert.equal(l.level, 'info');
        assert.equal(l.fields.sliceUs, 300);
        assert.equal(addon!.getSchedSlice(l.fields.thread as number), 300);
      }
      assert.equal(addon!.getSchedSlice(process.pid), before);
    });

    it('MUST leave the threads alone with media.sliceUs 0, and in-thread mode', async () => {
      const lines: Line[] = [];
      engine = new EmbeddedMediaEngine({ media: engineSettings({ inThread: false, workers: 1, sliceUs: 0 }), logger: recorder(lines) });
      await engine.queueDelay(); // a round trip to the worker: it has started
      await engine.close();
      const before = addon!.getSchedSlice(process.pid);
      engine = new EmbeddedMediaEngine({ media: engineSettings({ inThread: true, sliceUs: 400 }), logger: recorder(lines) });
      await engine.queueDelay();
      assert.equal(lines.filter((l) => /slice/.test(l.message)).length, 0, JSON.stringify(lines));
      assert.equal(addon!.getSchedSlice(process.pid), before, 'the signalling thread keeps its slice');
    });
  });
});
