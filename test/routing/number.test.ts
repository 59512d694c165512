/** Dialled strings, E.164 normalisation (ITU-T E.164, RFC 3966) and dial-plan patterns. */
import assert from 'node:assert/strict';
import { dialledOf, formatNumber, isInternational, toE164 } from '../../gateway/routing/number';
import { compilePattern, matchPattern, MAX_PATTERN_POSITIONS } from '../../gateway/routing/pattern';
import { RoutingConfigError } from '../../gateway/routing/types';
import { parseUri } from '../../gateway/sip/message/uri';

const FR = { countryCode: '33', nationalPrefix: '0', internationalPrefix: '00' };
const ES = { countryCode: '34', nationalPrefix: '', internationalPrefix: '00' };
const US = { countryCode: '1', nationalPrefix: '1', internationalPrefix: '011' };

describe('Routing: numbers', () => {
  describe('the dialled string of a Request-URI (RFC 3261 §19.1.6, RFC 3966 §5.1.1)', () => {
    it('reads a tel: number without visual separators', () => {
      assert.deepEqual(dialledOf(parseUri('tel:+33-1-40.00(00)01')), { kind: 'number', text: '+33140000001', raw: '+33-1-40.00(00)01' });
    });

    it('reads a sip: user part as a number when it looks like one, and cuts its parameters', () => {
      assert.equal(dialledOf(parseUri('sip:+33140000001;phone-context=+33@gw;user=phone'))?.text, '+33140000001');
      assert.equal(dialledOf(parseUri('sip:0140000001@gw'))?.kind, 'number');
    });

    it('reads other user parts as names, %-escapes resolved', () => {
      assert.deepEqual(dialledOf(parseUri('sip:al%69ce@gw')), { kind: 'name', text: 'alice', raw: 'alice' });
    });

    it('refuses a user=phone URI whose user part is not a number', () => {
      assert.equal(dialledOf(parseUri('sip:alice@gw;user=phone')), undefined);
    });

    it('refuses user parts longer than 64 characters', () => {
      assert.equal(dialledOf(parseUri(`sip:${'1'.repeat(65)}@gw`)), undefined);
    });
  });

  describe('E.164 normalisation', () => {
    it('keeps +, turns 00 into + and the national prefix into +<cc>', () => {
      assert.equal(toE164('+4930123456', FR), '+4930123456');
      assert.equal(toE164('004930123456', FR), '+4930123456');
      assert.equal(toE164('0140000001', FR), '+33140000001');
    });

    it('prefers the longer prefix when they overlap (00 over 0)', () => {
      assert.equal(toE164('0044207', FR), '+44207');
    });

    it('adds +<cc> to a bare national number, even where the plan has no national prefix', () => {
      assert.equal(toE164('911234567', ES), '+34911234567');
      assert.equal(toE164('140000001', FR), '+33140000001');
    });

    it('reads bare digits as E.164 for a trunk that writes numbers that way', () => {
      assert.equal(toE164('34911234567', ES, true), '+34911234567');
    });

    it('handles the NANP: 1 national, 011 international', () => {
      assert.equal(toE164('12125550100', US), '+12125550100');
      assert.equal(toE164('01133140000001', US), '+33140000001');
    });

    it('refuses more than 15 digits, a country code starting with 0, and non-digits', () => {
      assert.equal(toE164('+1234567890123456', FR), undefined);
      assert.equal(toE164('+0123', FR), undefined);
      assert.equal(toE164('12#', FR), undefined);
    });

    it('calls international a number whose country code is not the home one', () => {
      assert.equal(isInternational('+4930123456', FR), true);
      assert.equal(isInternational('+33140000001', FR), false);
    });

    it('writes a number in each trunk format', () => {
      assert.equal(formatNumber('+33140000001', 'e164', FR), '+33140000001');
      assert.equal(formatNumber('+33140000001', 'digits', FR), '33140000001');
      assert.equal(formatNumber('+33140000001', 'national', FR), '0140000001');
      assert.equal(formatNumber('+4930123456', 'national', FR), '004930123456');
      assert.equal(formatNumber('112', 'national', FR), '112');
    });
  });

  describe('dial-plan patterns (linear time)', () => {
    it('matches X, Z, N, sets and ranges position by position', () => {
      const p = compilePattern('+1NXXNXXXXXX');
      assert.equal(matchPattern(p, '+12125550100'), true);
      assert.equal(matchPattern(p, '+11125550100'), false);
      const q = compilePattern('+33[1-57]Z');
      assert.equal(matchPattern(q, '+3371'), true);
      assert.equal(matchPattern(q, '+3361'), false);
      assert.equal(matchPattern(q, '+3370'), false);
    });

    it('needs the exact length without a trailing wildcard', () => {
      const p = compilePattern('+33XX');
      assert.equal(matchPattern(p, '+3312'), true);
      assert.equal(matchPattern(p, '+33123'), false);
      assert.equal(matchPattern(p, '+331'), false);
    });

    it('reads a trailing . as one or more digits and ! as zero or more', () => {
      const dot = compilePattern('+44.');
      assert.equal(matchPattern(dot, '+44'), false);
      assert.equal(matchPattern(dot, '+4420'), true);
      const bang = compilePattern('+44!');
      assert.equal(matchPattern(bang, '+44'), true);
      assert.equal(matchPattern(bang, '+44x'), false);
    });

    it('refuses everything outside the small language', () => {
      for (const bad of ['+3(3)', '+33.X', '3+3', '+33[', '+33[]', '+33[5-1]', '+33*', '', 'X'.repeat(MAX_PATTERN_POSITIONS + 1)]) {
        assert.throws(() => compilePattern(bad), RoutingConfigError, bad);
      }
    });

    it('matches a hostile 10 000-character input in bounded time', () => {
      const p = compilePattern('+X!');
      const input = '+' + '9'.repeat(10_000) + 'x';
      // A linear match takes well under 1 ms and a backtracking one far more than 50 ms; the best of
      // three rides out a GC pause or a busy machine, so only a slow matcher fails.
      let best = Number.POSITIVE_INFINITY;
      for (let i = 0; i < 3; i++) {
        const t = process.hrtime.bigint();
        assert.equal(matchPattern(p, input), false);
        best = Math.min(best, Number(process.hrtime.bigint() - t) / 1e6);
      }
      assert.ok(best < 50, `best of 3: ${best.toFixed(1)} ms`);
    });
  });
});
