/** media-bridge's flags: one parser for the numeric ones, each flag's range, an error naming the flag; --fast=off. */
import assert from 'node:assert/strict';
import { callsArg, fastPathArg, niceArg, workersArg } from '../../bench/media-bridge';

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
});
