/**
 * The `messaging` configuration section (gateway/messaging/config.ts): its defaults are the
 * service's, seconds become milliseconds, values outside their bounds are refused naming the key,
 * and a running gateway enforces what the file says.
 */
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../config/load';
import { DEFAULT_MESSAGING_LIMITS } from '../../gateway/messaging/types';
import { startTestGateway, type TestGateway } from '../helpers/in-process-gateway';

describe('Messaging configuration (config: messaging)', function () {
  this.timeout(20_000);

  it('MUST default to the service\'s own limits', () => {
    assert.deepEqual(loadConfig({ env: {} }).messaging, DEFAULT_MESSAGING_LIMITS);
  });

  it('MUST take seconds in the file and give the service milliseconds', () => {
    const m = loadConfig({ env: {}, set: ['messaging.ttlSec=3600', 'messaging.onlineTimeoutSec=5', 'messaging.retryDelaySec=60'] }).messaging;
    assert.equal(m.ttlMs, 3_600_000);
    assert.equal(m.onlineTimeoutMs, 5000);
    assert.equal(m.retryDelayMs, 60_000);
  });

  it('MUST refuse an online timeout beyond Timer F and a retry delay inside it, naming the key', () => {
    for (const [set, key] of [['messaging.onlineTimeoutSec=31', 'onlineTimeoutSec'], ['messaging.retryDelaySec=32', 'retryDelaySec'], ['messaging.maxBodyBytes=0', 'maxBodyBytes']] as const) {
      assert.throws(() => loadConfig({ env: {}, set: [set] }), (e: unknown) => e instanceof ConfigError && e.message.includes(key), set);
    }
  });

  describe('a running gateway', () => {
    let t: TestGateway | undefined;
    after(async () => {
      await t?.stop();
    });

    it('MUST enforce the configured limits', async () => {
      t = await startTestGateway(['messaging.maxBodyBytes=1000', 'messaging.maxGroupMembers=7']);
      assert.equal(t.gw.messaging.limits.maxBodyBytes, 1000);
      assert.equal(t.gw.messaging.limits.maxGroupMembers, 7);
    });
  });
});
