import { strict as assert } from 'node:assert';
import { makeErrorResponse } from '../../../gateway/sip/message/error-response';
import type { NameAddr, SipUri } from '../../../gateway/sip/message/types';
import { parseError, parseResponse, requestLines, wire } from './helpers';

function userOf(a: NameAddr): string | undefined {
  return (a.uri as SipUri).user;
}

/** A reason phrase built only from constants: letters, digits, spaces, '-' and header names. */
const SAFE_REASON = /^[A-Za-z0-9 -]+$/;

describe('SIP message parser: errors', () => {
  describe('RFC 3261 §8.2.6 answering a malformed request', () => {
    it('keeps reading after a fault, so a late Via still makes the request answerable (RFC 4475 §3.1.2.17)', () => {
      const lines = requestLines().filter((l) => !l.startsWith('Via'));
      lines.splice(1, 0, 'CSeq: 8 INVITE');
      lines.splice(lines.findIndex((l) => l.startsWith('CSeq: 314159')), 1);
      lines.push('Via: SIP/2.0/UDP late.example.com;branch=z9hG4bKlate');
      const e = parseError(wire(lines));
      assert.equal(e.canRespond, true);
      assert.equal(e.partial?.via[0].host, 'late.example.com');
      assert.equal(e.partial?.cseq, '8 INVITE');
      assert.equal(e.partial?.method, 'INVITE');
    });

    it('builds a 400 that copies Via, From, To, Call-ID and CSeq and adds a To tag', () => {
      const lines = requestLines('OPTIONS', ['Max-Forwards: 300']);
      lines.splice(2, 0, 'Via: SIP/2.0/TCP p2.example.com;branch=z9hG4bK2');
      const e = parseError(wire(lines));
      const out = makeErrorResponse(e, { toTag: 'errtag1', headers: [['Server', 'Ciphergate']] });
      assert.ok(out);
      const r = parseResponse(out);
      assert.equal(r.status, 400);
      assert.equal(r.reason, e.reason);
      assert.deepEqual(r.via.map((v) => v.host), ['pc33.atlanta.example.com', 'p2.example.com']);
      assert.equal(r.to.params.get('tag'), 'errtag1');
      assert.equal(r.from.params.get('tag'), '1928301774');
      assert.equal(r.callId, 'a84b4c76e66710@pc33.atlanta.example.com');
      assert.deepEqual(r.cseq, { seq: 314159, method: 'OPTIONS' });
      assert.equal(r.headers.get('Server'), 'Ciphergate');
      assert.equal(r.body.length, 0);
    });

    it('keeps an existing To tag and generates a random one otherwise', () => {
      const withTag = requestLines('OPTIONS', ['Max-Forwards: 1']).map((l) => (l.startsWith('To') ? 'To: <sip:bob@b.com>;tag=keep' : l));
      assert.equal(parseResponse(makeErrorResponse(parseError(wire(withTag)))!).to.params.get('tag'), 'keep');
      const a = parseResponse(makeErrorResponse(parseError(wire(requestLines('OPTIONS', ['Max-Forwards: 1']))))!).to.params.get('tag');
      const b = parseResponse(makeErrorResponse(parseError(wire(requestLines('OPTIONS', ['Max-Forwards: 1']))))!).to.params.get('tag');
      assert.ok(typeof a === 'string' && a.length >= 16);
      assert.notEqual(a, b);
    });

    it('salvages a malformed From/To for the 400 (RFC 4475 §3.1.2.15)', () => {
      const lines = requestLines().map((l) => (l.startsWith('From') ? 'From: Bell, Alexander <sip:a.g.bell@example.com>;tag=43' : l));
      const e = parseError(wire(lines));
      assert.equal(e.reason, 'Bad Request - Malformed From');
      assert.equal(e.partial?.from?.params.get('tag'), '43');
      assert.equal(userOf(parseResponse(makeErrorResponse(e)!).from), 'a.g.bell');
    });

    it('answers a request missing From, To and Call-ID with what it has (RFC 4475 §3.3.1)', () => {
      const e = parseError(wire(requestLines('INVITE').filter((l) => !/^(From|To|Call-ID|Max-Forwards)/.test(l))));
      assert.equal(e.canRespond, true);
      const text = makeErrorResponse(e)!.toString();
      assert.match(text, /^SIP\/2\.0 400 Bad Request - Missing From\r\n/);
      assert.match(text, /\r\nCSeq: 314159 INVITE\r\n/);
      assert.doesNotMatch(text, /\r\n(From|To|Call-ID):/);
    });

    it('echoes an out-of-range CSeq number as received (RFC 4475 §3.1.2.4)', () => {
      const lines = requestLines('REGISTER').map((l) => (l.startsWith('CSeq') ? 'CSeq: 36893488147419103232 REGISTER' : l));
      const text = makeErrorResponse(parseError(wire(lines)))!.toString();
      assert.match(text, /\r\nCSeq: 36893488147419103232 REGISTER\r\n/);
    });

    it('cannot answer without a usable Via or CSeq', () => {
      const noVia = parseError(wire(requestLines().filter((l) => !l.startsWith('Via'))));
      assert.equal(noVia.canRespond, false);
      assert.equal(makeErrorResponse(noVia), undefined);
      const badVia = requestLines().map((l) => (l.startsWith('Via') ? 'Via: garbage' : l));
      assert.equal(parseError(wire(badVia)).canRespond, false);
      const badCSeq = requestLines().map((l) => (l.startsWith('CSeq') ? 'CSeq: x' : l));
      assert.equal(parseError(wire(badCSeq)).canRespond, false);
    });

    it('never puts received bytes in the reason phrase', () => {
      const evil = 'Evil\u0000<script>\u00e9';
      const cases = [
        requestLines('OPTIONS', [`Max-Forwards: ${evil}`]),
        requestLines('OPTIONS', [`${evil}: x`]),
        requestLines('OPTIONS', [`From: ${evil}`]),
        requestLines('OPTIONS', [`Route: ${evil}`]),
        requestLines('OPTIONS', [`Contact: ${evil}`]),
        [`${evil} sip:a@b.com SIP/2.0`, ...requestLines().slice(1)],
      ];
      for (const lines of cases) {
        const e = parseError(wire(lines));
        assert.match(e.reason, SAFE_REASON);
        assert.doesNotMatch(e.message, /Evil/);
      }
    });
  });
});
