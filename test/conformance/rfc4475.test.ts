/**
 * RFC 4475 torture tests at the message layer: each file's PARSE-level verdict. Application
 * answers (416, 420, 415, 401, 483, 406, 405/501) are the core's: here those messages must parse.
 */
import { strict as assert } from 'node:assert';
import { makeErrorResponse } from '../../gateway/sip/message/error-response';
import { SipParseError } from '../../gateway/sip/message/errors';
import type { SipMessage } from '../../gateway/sip/message/message';
import { parseMessage } from '../../gateway/sip/message/parser';
import { serializeMessage } from '../../gateway/sip/message/serializer';
import { serializeVia } from '../../gateway/sip/message/via';
import { loadCorpus } from './corpus';

type Verdict = 'parse' | 'drop' | 400 | 505;

/**
 * Our reading of the rows the README leaves open ("see RFC"), and of rows whose verdict belongs to
 * a later layer:
 * - baddate (§3.1.2.12): Date is not interpreted by the parser; the message parses (the RFC lets
 *   an element ignore the field; a B2BUA does not relay it).
 * - regbadct (§3.1.2.13): 400. The URI has a "?" but no <>, which §20.10 forbids; we do not guess.
 * - novelsc (§3.3.3): parses (opaque URI); the core answers 416.
 * - bcast (§3.3.10): a well-formed response; dropping it (two Vias at a UAC, §8.1.3.3, and never
 *   sending to a broadcast address) is the core's decision.
 * - clerr (§3.1.2.2): 400 as a datagram; on a stream the framer waits for the octets.
 */
const READING: Record<string, Verdict> = {
  baddate: 'parse',
  regbadct: 400,
  novelsc: 'parse',
  bcast: 'parse',
  clerr: 400,
  dblreq: 'parse',
};

function verdictOf(name: string, expected: string): Verdict {
  if (name in READING) return READING[name];
  if (expected.startsWith('parse')) return 'parse';
  if (expected === '400') return 400;
  if (expected === '505') return 505;
  if (expected.startsWith('drop')) return 'drop';
  if (/^\d{3}/.test(expected)) return 'parse'; // an application-layer answer: must parse here
  throw new Error(`no reading for ${name}: ${expected}`);
}

/** The error, when parsing throws one. */
function attempt(data: Buffer, stream = false): SipMessage | SipParseError {
  try {
    return parseMessage(data, { stream });
  } catch (e) {
    if (e instanceof SipParseError) return e;
    throw e;
  }
}

describe('RFC 4475 torture tests (message layer)', () => {
  const corpus = loadCorpus();

  it('finds the 49 messages of the corpus', () => {
    assert.equal(corpus.length, 49);
  });

  for (const { name, section, expected, data } of corpus) {
    const verdict = verdictOf(name, expected);
    it(`§${section} ${name}: ${verdict === 'parse' ? 'parses' : verdict === 'drop' ? 'is dropped' : `is answered with ${verdict}`}`, () => {
      const result = attempt(data);
      if (verdict === 'parse') {
        assert.ok(!(result instanceof SipParseError), `${name} threw ${result instanceof SipParseError ? result.reason : ''}`);
        // What parses must serialize and parse back to the same message.
        assert.deepEqual(parseMessage(serializeMessage(result), { stream: true }), result);
        return;
      }
      assert.ok(result instanceof SipParseError, `${name} parsed`);
      if (verdict === 'drop') {
        assert.equal(result.canRespond, false);
        assert.equal(makeErrorResponse(result), undefined);
        return;
      }
      assert.equal(result.status, verdict);
      // Every 400/505 file of the corpus has a usable Via and CSeq: it must be answerable.
      assert.equal(result.canRespond, true, `${name} not answerable: ${result.reason}`);
      // The answer: our status line, the request's Vias. (Not always parseable by a strict parser:
      // insuf has no From/To/Call-ID to copy, scalar02's CSeq is echoed out of range.)
      const text = makeErrorResponse(result)!.toString();
      assert.ok(text.startsWith(`SIP/2.0 ${verdict} ${result.reason}\r\nVia: ${serializeVia(result.partial!.via[0])}\r\n`), text);
      assert.ok(text.endsWith('\r\nContent-Length: 0\r\n\r\n'));
    });
  }

  describe('details the RFC calls out', () => {
    const get = (n: string): Buffer => corpus.find((c) => c.name === n)!.data;
    const parsed = (n: string): SipMessage => parseMessage(get(n), { stream: false });

    it('wsinv: unfolds, reads escapes in quoted strings and keeps unknown headers', () => {
      const m = parsed('wsinv');
      assert.equal(m.from.displayName, 'J Rosenberg \\"');
      assert.equal(m.via.length, 3);
      assert.equal(m.maxForwards, 68);
      assert.deepEqual(m.cseq, { seq: 9, method: 'INVITE' });
      assert.equal(m.headers.get('NewFangledHeader'), 'newfangled value continued newfangled value');
      assert.equal(m.headers.get('UnknownHeaderWithUnusualValue'), ';;,,;;,;');
      assert.ok(Array.isArray(m.contact) && m.contact[0].params.get('q') === '0.33');
    });

    it('esc02: % in a method, header name and branch is just a character', () => {
      const m = parsed('esc02');
      assert.equal(m.kind === 'request' && m.method, 'RE%47IST%45R');
      assert.equal(m.headers.get('C%6Fntact'), '<sip:alias2@host2.example.com>');
      assert.ok(Array.isArray(m.contact) && m.contact.length === 2);
    });

    it('dblreq: reads the REGISTER and ignores the INVITE after it', () => {
      const m = parsed('dblreq');
      assert.equal(m.kind === 'request' && m.method, 'REGISTER');
      assert.equal(m.body.length, 0);
    });

    it('inv2543: no branch, no From tag, no Content-Length, no Max-Forwards', () => {
      const m = parsed('inv2543');
      assert.equal(m.via[0].params.has('branch'), false);
      assert.equal(m.from.params.has('tag'), false);
      assert.equal(m.maxForwards, undefined);
      assert.ok(m.body.toString().startsWith('v=0'));
    });

    it('cparam01/cparam02: the parameter goes to the header without <>, to the URI within', () => {
      const c1 = parsed('cparam01').contact;
      const c2 = parsed('cparam02').contact;
      assert.ok(Array.isArray(c1) && Array.isArray(c2));
      assert.equal(c1[0].params.has('unknownparam'), true);
      assert.equal(c2[0].params.has('unknownparam'), false);
    });

    it('badbranch: a branch that is only the magic cookie is kept as is for the transaction layer', () => {
      assert.equal(parsed('badbranch').via[0].params.get('branch'), 'z9hG4bK');
    });

    it('mismatch02 and multi01 name their fault', () => {
      assert.equal((attempt(get('mismatch02')) as SipParseError).reason, 'Bad Request - CSeq Method Mismatch');
      assert.match((attempt(get('multi01')) as SipParseError).reason, /^Bad Request - Duplicate /);
      assert.equal((attempt(get('mcl01')) as SipParseError).reason, 'Bad Request - Duplicate Content-Length');
    });

    it('clerr on a stream: refused too (the framer, not the parser, waits for missing octets)', () => {
      const e = attempt(get('clerr'), true);
      assert.ok(e instanceof SipParseError);
      assert.equal(e.reason, 'Bad Request - Content-Length Exceeds Message');
    });
  });
});
