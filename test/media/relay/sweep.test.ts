/**
 * The relay host's inactivity sweep, sliced (media/relay/host.ts): each timer tick looks at
 * 1/SWEEP_SLICES of a thread's calls, so that a thread with many calls never stops relaying for
 * the whole pass, and yet every call is looked at once per pass.
 */
import { strict as assert } from 'node:assert';
import { randomInt } from 'node:crypto';
import { RelayHost, SWEEP_SLICES } from '../../../media/relay/host';
import type { LegWire, RelayEvent } from '../../../media/relay/protocol';

const CALLS = 45; // not a multiple of SWEEP_SLICES: the last slice is short
const INACTIVITY_MS = 2000;

const leg = (tag: string): LegWire => ({
  tag,
  mode: 'rtp',
  rtcpMux: false,
  remote: { address: '127.0.0.1', rtpPort: 9, rtcpPort: 10 },
  latch: 'sdp-host',
  relatch: false,
  srtpIn: undefined,
  srtpOut: undefined,
  payloadMap: [[0, 0]],
  transcode: undefined,
  clockRate: 8000,
  sends: true,
});

describe('relay host: sliced inactivity sweep', function () {
  this.timeout(20_000);
  let host: RelayHost;
  let clock = 1_000_000;
  const timeouts: string[] = [];

  /** Opens and configures a stream for `callId` on free ports below the engine tests' ranges. */
  async function call(streamId: number, callId: string): Promise<void> {
    for (let attempt = 0; attempt < 50; attempt++) {
      const port = 2 * randomInt(10000, 15000);
      const reply = await host.handle({ op: 'open', streamId, callId, index: 0, address: '127.0.0.1', ports: [port, port + 2] });
      if (reply !== null && 'ok' in reply && reply.ok) {
        await host.handle({ op: 'configure', stream: { streamId, callId, index: 0, legs: [leg('a'), leg('b')] } });
        return;
      }
    }
    assert.fail('no free port pair');
  }

  beforeEach(async () => {
    timeouts.length = 0;
    const emit = (e: RelayEvent): void => {
      if (e.type === 'timeout') timeouts.push(e.callId);
    };
    host = new RelayHost({ inactivityMs: INACTIVITY_MS, maxPacketsPerSec: 1000, sweepIntervalMs: 0, emit, now: () => clock });
    for (let i = 0; i < CALLS; i++) await call(i + 1, `call-${i}`);
  });

  afterEach(() => host.close());

  it('MUST look at no more than its share of the calls per tick, and at every call once per pass', () => {
    clock += INACTIVITY_MS;
    const share = Math.ceil(CALLS / SWEEP_SLICES);
    let ticks = 0;
    while (timeouts.length < CALLS && ticks < 2 * SWEEP_SLICES) {
      const before = timeouts.length;
      host.sweepSlice();
      ticks++;
      assert.ok(timeouts.length - before <= share, `tick ${ticks} looked at ${timeouts.length - before} calls, share ${share}`);
    }
    assert.equal(ticks, Math.ceil(CALLS / share), 'every call reached in the fewest ticks its share allows');
    assert.equal(new Set(timeouts).size, CALLS, 'each call timed out once');
    // A second pass: still silent, so no call raises its timeout again.
    for (let t = 0; t < 2 * SWEEP_SLICES; t++) host.sweepSlice();
    assert.equal(timeouts.length, CALLS);
  });

  it('MUST reach a call added during a pass and step over one closed during it', async () => {
    clock += INACTIVITY_MS;
    host.sweepSlice(); // the pass has begun: call-0.. are behind the cursor
    await host.handle({ op: 'close', streamIds: [CALLS] }); // the last call, not yet looked at
    await call(CALLS + 1, 'late');
    clock += INACTIVITY_MS; // the late call is silent too
    const share = Math.ceil(CALLS / SWEEP_SLICES);
    // The rest of this pass: the CALLS - share - 1 calls left of the first ones, then the late one.
    for (let t = 0; t < Math.ceil((CALLS - share) / share) && !timeouts.includes('late'); t++) host.sweepSlice();
    assert.ok(timeouts.includes('late'), 'the call added during the pass was looked at in it');
    assert.ok(!timeouts.includes(`call-${CALLS - 1}`), 'the closed call raised nothing');
  });

  it('MUST find the same idle calls sliced as in one full sweep', () => {
    clock += INACTIVITY_MS - 1;
    for (let t = 0; t < 2 * SWEEP_SLICES; t++) host.sweepSlice();
    assert.equal(timeouts.length, 0, 'nothing idle for the full inactivity time yet');
    clock += 1;
    host.sweep();
    assert.equal(timeouts.length, CALLS);
  });
});
