import assert from 'node:assert/strict';
import { FakeClock, FakeClockOverrunError, SystemClock } from '../../../gateway/sip/transaction/clock';
import { newBranch, newCallId, newTag } from '../../../gateway/sip/transaction/ids';
import { TimerSettingsError, TransactionTimers } from '../../../gateway/sip/transaction/timers';

describe('transaction clock', () => {
  it('FakeClock fires due timers in time order, ties in arming order, including timers armed while firing', () => {
    const clock = new FakeClock();
    const fired: string[] = [];
    clock.setTimer(() => fired.push('b@20'), 20);
    clock.setTimer(() => {
      fired.push('a@10');
      clock.setTimer(() => fired.push('c@15'), 5);
    }, 10);
    clock.setTimer(() => fired.push('d@20'), 20);
    const cancelled = clock.setTimer(() => fired.push('never'), 5);
    clock.clearTimer(cancelled);
    assert.equal(clock.advance(19), 2);
    assert.equal(clock.now(), 19);
    clock.advance(1);
    assert.deepEqual(fired, ['a@10', 'c@15', 'b@20', 'd@20']);
    assert.equal(clock.pending, 0);
  });

  it('FakeClock.advance is bounded: a runaway timer loop throws', () => {
    const clock = new FakeClock();
    const loop = (): void => {
      clock.setTimer(loop, 0);
    };
    clock.setTimer(loop, 0);
    assert.throws(() => clock.advance(1, 50), FakeClockOverrunError);
  });

  it('SystemClock fires and clears real timers', async () => {
    const clock = new SystemClock();
    let fired = 0;
    const t = clock.setTimer(() => fired++, 1);
    clock.clearTimer(clock.setTimer(() => fired += 10, 1));
    assert.equal(clock.pending, 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(fired, 1);
    assert.equal(clock.pending, 0);
    clock.clearTimer(t); // already fired: a no-op
  });
});

describe('RFC 3261 §17.1.1.1 / Table 4 timer values', () => {
  it('defaults: T1 500 ms, T2 4 s, T4 5 s; B, F, H, L, M 64*T1; D 32 s', () => {
    const t = new TransactionTimers();
    assert.deepEqual([t.t1, t.t2, t.t4], [500, 4_000, 5_000]);
    assert.deepEqual([t.timerB, t.timerF, t.timerH, t.timerL, t.timerM], [32_000, 32_000, 32_000, 32_000, 32_000]);
    assert.deepEqual([t.timerD(false), t.timerI(false), t.timerJ(false), t.timerK(false)], [32_000, 5_000, 32_000, 5_000]);
  });

  it('Timers D, I, J and K are 0 on reliable transports', () => {
    const t = new TransactionTimers();
    assert.deepEqual([t.timerD(true), t.timerI(true), t.timerJ(true), t.timerK(true)], [0, 0, 0, 0]);
  });

  it('A doubles without cap; E and G double up to T2; E is T2 in Proceeding', () => {
    const t = new TransactionTimers();
    assert.equal(t.nextTimerA(8_000), 16_000);
    assert.equal(t.nextTimerE(2_000, false), 4_000);
    assert.equal(t.nextTimerE(4_000, false), 4_000);
    assert.equal(t.nextTimerE(500, true), 4_000);
    assert.equal(t.nextTimerG(1_000), 2_000);
    assert.equal(t.nextTimerG(4_000), 4_000);
  });

  it('T1, T2, T4 are configurable and validated', () => {
    const t = new TransactionTimers({ t1: 100, t2: 1_000, t4: 2_000 });
    assert.deepEqual([t.timerB, t.timerK(false), t.timerD(false)], [6_400, 2_000, 32_000]);
    assert.throws(() => new TransactionTimers({ t1: 0 }), TimerSettingsError);
    assert.throws(() => new TransactionTimers({ t1: 1_000, t2: 500 }), TimerSettingsError);
    assert.throws(() => new TransactionTimers({ t4: Number.NaN }), TimerSettingsError);
  });
});

describe('RFC 3261 §8.1.1.7 / §19.3 identifiers', () => {
  it('branches start with the magic cookie and carry 128 random bits of token characters', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const b = newBranch();
      assert.match(b, /^z9hG4bK[A-Za-z0-9_-]{22}$/);
      seen.add(b);
    }
    assert.equal(seen.size, 200);
  });

  it('tags and Call-IDs are random tokens; a Call-ID may carry a host', () => {
    assert.match(newTag(), /^[A-Za-z0-9_-]{16}$/);
    assert.notEqual(newTag(), newTag());
    assert.match(newCallId(), /^[A-Za-z0-9_-]{22}$/);
    assert.match(newCallId('gw.example.net'), /^[A-Za-z0-9_-]{22}@gw\.example\.net$/);
  });
});
