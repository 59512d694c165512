/** Media port pairs (RFC 3550 §11: RTP on an even port, RTCP on the next one). */
import assert from 'node:assert/strict';
import { PortAllocator, PortsExhaustedError } from '../../../media/relay';

describe('PortAllocator (RFC 3550 §11)', () => {
  it('MUST hand out even RTP ports whose RTCP port (+1) is inside the range', () => {
    const a = new PortAllocator(20001, 20010); // first even is 20002; 20010 has no +1 in range
    const got: number[] = [];
    while (a.available > 0) got.push(a.allocate());
    assert.deepEqual(got, [20002, 20004, 20006, 20008]);
    assert.ok(got.every((p) => p % 2 === 0 && p + 1 <= 20010));
  });

  it('MUST throw PortsExhaustedError when no pair is free, and serve again after a release', () => {
    const a = new PortAllocator(30000, 30003);
    const p1 = a.allocate();
    a.allocate();
    assert.throws(() => a.allocate(), (e: unknown) => e instanceof PortsExhaustedError && /30000\.\.30003/.test(e.message));
    a.release(p1);
    assert.equal(a.allocate(), p1);
  });

  it('MUST reuse a freed pair as late as possible (FIFO), and ignore double releases', () => {
    const a = new PortAllocator(40000, 40007);
    const first = a.allocate();
    a.release(first);
    assert.notEqual(a.allocate(), first, 'the freed pair went to the back');
    a.release(first);
    a.release(first);
    assert.equal(a.available + a.allocated, 4);
  });

  it('MUST refuse an invalid range', () => {
    assert.throws(() => new PortAllocator(5000, 4000), RangeError);
    assert.throws(() => new PortAllocator(0, 70000), RangeError);
  });
});
