/** media-bridge's numeric flags: one parser, each flag's range, and an error naming the flag. */
import assert from 'node:assert/strict';
import { callsArg, niceArg, workersArg } from '../../bench/media-bridge';

describe('bench/media-bridge flags', () => {
  it('MUST read --calls, --nice and --workers, with their defaults when absent', () => {
    assert.equal(callsArg(['--floor', '--calls=1000']), 1000);
    assert.equal(callsArg([]), undefined);
    assert.equal(niceArg(['--nice=-10']), -10);
    assert.equal(niceArg(['--calls=5']), undefined);
    assert.equal(workersArg(['--workers=3']), 3);
    assert.equal(workersArg([]), 0);
  });

  it('MUST refuse a value out of range or not an integer, naming the flag', () => {
    assert.throws(() => callsArg(['--calls=0']), /--calls must be an integer 1\.\.5000/);
    assert.throws(() => niceArg(['--nice=-21']), /--nice must be an integer -20\.\.19/);
    assert.throws(() => niceArg(['--nice=1.5']), /--nice/);
    assert.throws(() => workersArg(['--workers=x']), /--workers must be an integer 0\.\.64/);
  });
});
