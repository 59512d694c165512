/** RFC 4028 session timers: grammar (§4, §5), negotiation (§7, §9) and the timer (§10). */
import assert from 'node:assert/strict';
import {
  formatSessionExpires,
  hasOptionTag,
  negotiateAsUas,
  parseMinSe,
  parseSessionExpires,
  SessionTimer,
  SessionTimerSyntaxError,
  uacOutcome,
  uacRequestHeaders,
} from '../../../gateway/sip/dialog';
import { HeaderList } from '../../../gateway/sip/message/message';

const headers = (pairs: Array<[string, string]>): HeaderList => {
  const h = new HeaderList();
  for (const [n, v] of pairs) h.add(n, v);
  return h;
};
const policy = { intervalSec: 1800, minSeSec: 90 };

describe('RFC 4028 session timers', () => {
  describe('§4 Session-Expires and §5 Min-SE grammar', () => {
    it('MUST read delta-seconds and the refresher parameter', () => {
      assert.deepEqual(parseSessionExpires('1800;refresher=uac'), { deltaSec: 1800, refresher: 'uac' });
      assert.deepEqual(parseSessionExpires(' 90 '), { deltaSec: 90 });
      assert.deepEqual(parseSessionExpires('600;x=1;REFRESHER=UAS'), { deltaSec: 600, refresher: 'uas' });
      assert.equal(formatSessionExpires({ deltaSec: 600, refresher: 'uas' }), '600;refresher=uas');
      assert.equal(parseMinSe('120;foo'), 120);
    });

    it('MUST refuse malformed values', () => {
      for (const bad of ['', 'abc', '-5', '12345678901', '1800;refresher=both']) {
        assert.throws(() => parseSessionExpires(bad), SessionTimerSyntaxError, bad);
      }
      assert.throws(() => parseMinSe('x'), SessionTimerSyntaxError);
    });

    it('MUST find option tags in Supported and Require, and the compact form x', () => {
      assert.equal(hasOptionTag(headers([['Supported', '100rel, Timer']]), 'timer'), true);
      assert.equal(hasOptionTag(headers([['Require', 'timer']]), 'timer'), true);
      assert.equal(hasOptionTag(headers([['Supported', 'timers']]), 'timer'), false);
      assert.deepEqual(negotiateAsUas(headers([['x', '300'], ['Supported', 'timer']]), policy), {
        kind: 'timer', intervalSec: 300, refresher: 'uac', headers: [['Session-Expires', '300;refresher=uac'], ['Require', 'timer']],
      });
    });
  });

  describe('§9 UAS behaviour', () => {
    it('MUST answer 422 with our Min-SE when the interval is too small', () => {
      assert.deepEqual(negotiateAsUas(headers([['Session-Expires', '60'], ['Supported', 'timer']]), policy), { kind: 'too-small', minSe: 90 });
    });

    it('MUST keep the refresher the UAC named', () => {
      const d = negotiateAsUas(headers([['Session-Expires', '600;refresher=uas'], ['Supported', 'timer']]), policy);
      assert.equal(d.kind === 'timer' && d.refresher, 'uas');
      assert.deepEqual(d.kind === 'timer' && d.headers, [['Session-Expires', '600;refresher=uas']]);
    });

    it('MUST be the refresher itself, without Require: timer, when the UAC does not support timers', () => {
      const d = negotiateAsUas(headers([['Session-Expires', '600;refresher=uac']]), policy);
      assert.equal(d.kind === 'timer' && d.refresher, 'uas');
      assert.equal(d.kind === 'timer' && d.headers.some(([n]) => n === 'Require'), false);
    });

    it('SHOULD insert its interval for a UAC that supports timers but asked for none, and none for a UAC without them', () => {
      const d = negotiateAsUas(headers([['Supported', 'timer']]), policy);
      assert.equal(d.kind === 'timer' && d.intervalSec, 1800);
      assert.deepEqual(negotiateAsUas(headers([]), policy), { kind: 'none' });
    });
  });

  describe('§7 UAC behaviour', () => {
    it('MUST ask with Session-Expires and Min-SE, never below Min-SE', () => {
      assert.deepEqual(uacRequestHeaders(policy), [['Session-Expires', '1800'], ['Min-SE', '90']]);
      assert.deepEqual(uacRequestHeaders(policy, 30), [['Session-Expires', '90'], ['Min-SE', '90']]);
    });

    it('MUST read who refreshes from the 2xx, and no timer without Session-Expires', () => {
      assert.deepEqual(uacOutcome(headers([['Session-Expires', '900;refresher=uas']])), { intervalSec: 900, refresher: 'uas' });
      assert.deepEqual(uacOutcome(headers([['Session-Expires', '900']])), { intervalSec: 900, refresher: 'uac' });
      assert.equal(uacOutcome(headers([])), undefined);
    });
  });

  describe('§10 the timer', () => {
    it('MUST refresh at half the interval when we are the refresher', async () => {
      const seen: string[] = [];
      const t = new SessionTimer({ onRefresh: () => seen.push('refresh'), onExpire: () => seen.push('expire') });
      const started = Date.now();
      t.start(0.2, true);
      await new Promise((r) => setTimeout(r, 160));
      assert.deepEqual(seen, ['refresh']);
      assert.ok(Date.now() - started >= 95);
      assert.equal(t.intervalSec, 0.2);
      assert.equal(t.weRefresh, true);
    });

    it('MUST expire at the interval minus min(32, interval/3) when the peer refreshes', async () => {
      const seen: number[] = [];
      const started = Date.now();
      const t = new SessionTimer({ onRefresh: () => undefined, onExpire: () => seen.push(Date.now() - started) });
      t.start(0.3, false);
      await new Promise((r) => setTimeout(r, 350));
      assert.equal(seen.length, 1);
      assert.ok(seen[0]! >= 190 && seen[0]! < 300, `expired after ${seen[0]} ms`);
    });

    it('MUST be re-armed by a refresh and silent once stopped', async () => {
      let fired = 0;
      const t = new SessionTimer({ onRefresh: () => fired++, onExpire: () => fired++ });
      t.start(0.2, false);
      await new Promise((r) => setTimeout(r, 60));
      t.start(0.2, false);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(fired, 0, 're-armed: the first expiry never fires');
      t.stop();
      await new Promise((r) => setTimeout(r, 150));
      assert.equal(fired, 0);
      assert.equal(t.running, false);
    });
  });
});
