/**
 * The C load generator's real-time mode (BENCH_LOADGEN_RT, media-bridge --rt): the instrument must
 * really be at SCHED_FIFO above the relays it drives, or say why not and stop, since a generator
 * below real-time relays falls behind its schedule and the run proves nothing.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { buildNative } from '../../bench/loadgen-native';
import { hasCapSysNice, processSched } from '../helpers/sched';

/** Starts the generator with `rt`; its first line, and its policy and real-time priority meanwhile (proc(5) stat fields 41, 40). */
async function firstLine(rt: string, uid?: number): Promise<{ line: string; policy?: number; priority?: number; code: number | null }> {
  const child = spawn(buildNative(), [], { stdio: ['pipe', 'pipe', 'ignore'], env: { ...process.env, BENCH_LOADGEN_RT: rt }, uid, gid: uid });
  const lines = createInterface({ input: child.stdout! });
  const line = await new Promise<string>((resolve) => {
    lines.once('line', resolve);
    child.once('close', () => resolve(''));
  });
  const { policy, priority } = child.exitCode === null ? processSched(child.pid!) : { policy: undefined, priority: undefined };
  child.stdin!.end();
  const code = await new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('close', resolve)));
  return { line, policy, priority, code };
}

describe('bench C load generator at SCHED_FIFO', function () {
  this.timeout(30_000);
  const hasCc = spawnSync('sh', ['-c', 'command -v cc'], { stdio: 'ignore' }).status === 0;
  const root = process.getuid?.() === 0;
  const maySetRealtime = hasCapSysNice();

  it('MUST run at SCHED_FIFO at the priority asked', async function () {
    if (!hasCc || !maySetRealtime) this.skip();
    const r = await firstLine('15');
    assert.match(r.line, /^\{"aPorts":\[/);
    assert.deepEqual([r.policy, r.priority], [1, 15]);
    assert.equal(r.code, 0, 'exits cleanly at end of input');
  });

  it('MUST refuse a priority outside 1..99, and stop when the kernel refuses, naming the cause', async function () {
    if (!hasCc) this.skip();
    for (const bad of ['0', '100', 'x', '']) {
      const r = await firstLine(bad);
      assert.equal(r.line, '{"error":"BENCH_LOADGEN_RT must be 1..99"}', bad);
      assert.equal(r.code, 1);
    }
    if (!root) return; // the refusal is shown as the unprivileged user nobody, which takes root to become
    const r = await firstLine('15', 65534); // nobody: no CAP_SYS_NICE, RLIMIT_RTPRIO 0
    assert.equal(r.line, '{"error":"BENCH_LOADGEN_RT: sched_setscheduler: Operation not permitted"}');
    assert.equal(r.code, 1);
  });
});
