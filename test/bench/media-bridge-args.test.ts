/** media-bridge's flags: one parser for the numeric ones, each flag's range, an error naming the flag; --fast=off; --repeat and its summary; --rt and the terms it gives every backend. */
import assert from 'node:assert/strict';
import { callsArg, fastPathArg, GENERATOR_ON_TIME_MS, niceArg, repeatArg, rtArg, summariseRounds, workersArg } from '../../bench/media-bridge';
import { describePriority, generatorRt, rtpengineScheduling, underPriority } from '../../bench/priority';

describe('bench/media-bridge flags', () => {
  it('MUST read --calls, --nice and --workers, with their defaults when absent', () => {
    assert.equal(callsArg(['--floor', '--calls=1000']), 1000);
    assert.equal(callsArg([]), undefined);
    assert.equal(niceArg(['--nice=-10']), -10);
    assert.equal(niceArg(['--calls=5']), undefined);
    assert.equal(workersArg(['--workers=3']), 3);
    assert.equal(workersArg([]), 0);
  });

  it('MUST run the fast path as deployed unless --fast=off', () => {
    assert.equal(fastPathArg(['--calls=1000']), 'auto');
    assert.equal(fastPathArg(['--fast=off', '--calls=1000']), 'off');
  });

  it('MUST refuse a value out of range or not an integer, naming the flag', () => {
    assert.throws(() => callsArg(['--calls=0']), /--calls must be an integer 1\.\.5000/);
    assert.throws(() => niceArg(['--nice=-21']), /--nice must be an integer -20\.\.19/);
    assert.throws(() => niceArg(['--nice=1.5']), /--nice/);
    assert.throws(() => workersArg(['--workers=x']), /--workers must be an integer 0\.\.64/);
  });

  it('--rt MUST put every backend under SCHED_FIFO at N and the generator above them', () => {
    assert.equal(rtArg(['--rt=10']), 10);
    assert.equal(rtArg(['--nice=-10']), undefined);
    assert.throws(() => rtArg(['--rt=0']), /--rt must be an integer 1\.\.89/);
    assert.throws(() => rtArg(['--rt=90']), /--rt/, 'the generator must fit above');
    assert.equal(generatorRt(10), 20);
    assert.equal(generatorRt(89), 99);
    assert.deepEqual(rtpengineScheduling({ rt: 10, nice: -10 }), ['--scheduling=fifo', '--priority=10'], 'a real-time policy wins over nice');
    assert.deepEqual(rtpengineScheduling({ nice: -10 }), ['--scheduling=other', '--priority=-10']);
    assert.deepEqual(rtpengineScheduling({}), []);
    assert.deepEqual(underPriority({ rt: 5 }, ['/x/relay', '2']), ['chrt', '-f', '5', '/x/relay', '2']);
    assert.deepEqual(underPriority({ nice: -3 }, ['/x/relay', '2']), ['nice', '-n', '-3', '/x/relay', '2']);
    assert.deepEqual(underPriority({}, ['/x/relay', '2']), ['/x/relay', '2']);
    assert.equal(describePriority({ rt: 10 }), 'SCHED_FIFO 10 (generator SCHED_FIFO 20)');
    assert.equal(describePriority({ nice: -10 }), 'nice -10');
    assert.equal(describePriority({}), 'unchanged');
  });

  it('MUST run one round unless --repeat says more, up to 50', () => {
    assert.equal(repeatArg(['--calls=1000']), 1);
    assert.equal(repeatArg(['--repeat=10']), 10);
    assert.throws(() => repeatArg(['--repeat=0']), /--repeat must be an integer 1\.\.50/);
    assert.throws(() => repeatArg(['--repeat=51']), /--repeat/);
  });

  it('a repeated level MUST report every run, the medians, the runs within 5 ms and with loss, per backend that ran', () => {
    const round = (ours: number, oursCpu: number, theirs: number, theirsCpu: number, lost = 0) => ({
      ciphergate_p99_ms: ours, ciphergate_cpu_us_per_call_second: oursCpu, ciphergate_lost: lost,
      rtpengine_p99_ms: theirs, rtpengine_cpu_us_per_call_second: theirsCpu, rtpengine_lost: 0,
    });
    const s = summariseRounds([round(4.5, 800, 70, 1000), round(11, 850, 60, 1100, 3), round(3, 790, 90, 1050), round(6, 810, 40, 1040)]);
    assert.equal(s.rounds, 4);
    assert.equal(s.ciphergate_p99_ms_runs, '4.5 / 11 / 3 / 6');
    assert.equal(s.ciphergate_p99_ms_median, 5.25, 'an even count: the mean of the middle two');
    assert.equal(s.ciphergate_runs_p99_within_5ms, 2);
    assert.equal(s.ciphergate_runs_with_loss, 1);
    assert.equal(s.ciphergate_cpu_us_per_call_second_median, 805);
    assert.equal(s.rtpengine_p99_ms_median, 65);
    assert.equal(s.rtpengine_cpu_us_per_call_second_median, 1045);
    assert.equal(s.cpu_median_ratio_ciphergate_to_rtpengine, 0.77);
    assert.equal(s.floor_p99_ms_median, undefined, 'no floor run, no floor figures');
    const odd = summariseRounds([round(9, 1, 1, 1), round(2, 1, 1, 1), round(5, 1, 1, 1)]);
    assert.equal(odd.ciphergate_p99_ms_median, 5);
    assert.equal(odd.ciphergate_runs_p99_within_5ms, 2, '5 ms itself is within');
    assert.equal(odd.ciphergate_generator_lag_ms_runs, undefined, 'no lag recorded, no lag figures');
  });

  it('a repeated level MUST also say how late the generator was in each run, and the p99 of the runs it kept to its schedule, beside the whole', () => {
    const run = (p99: number, lag: number) => ({ ciphergate_p99_ms: p99, ciphergate_cpu_us_per_call_second: 800, ciphergate_lost: 0, ciphergate_generator_lag_ms: lag });
    const s = summariseRounds([run(30, 25), run(0.5, 1), run(6, 5), run(0.4, 2), run(20, 5.1)]);
    assert.equal(s.ciphergate_p99_ms_median, 6, 'the whole is still the headline');
    assert.equal(s.ciphergate_generator_lag_ms_runs, '25 / 1 / 5 / 2 / 5.1');
    assert.equal(s.ciphergate_runs_generator_on_time, 3, `${GENERATOR_ON_TIME_MS} ms itself is on time, 5.1 is not`);
    assert.equal(s.ciphergate_p99_ms_median_generator_on_time, 0.5);
    assert.equal(s.ciphergate_runs_generator_on_time_p99_within_5ms, 2);
    assert.equal(summariseRounds([run(9, 50)]).ciphergate_p99_ms_median_generator_on_time, -1, 'none on time');
  });
});
