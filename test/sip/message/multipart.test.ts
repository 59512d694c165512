import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { SipParseError } from '../../../gateway/sip/message/errors';
import { MAX_MIME_PARTS, multipartBoundary, parseMultipart } from '../../../gateway/sip/message/multipart';
import { parseMessage } from '../../../gateway/sip/message/parser';
import { conformanceDir } from '../../conformance/corpus';

function isBad(e: unknown): boolean {
  return e instanceof SipParseError && e.status === 400;
}

describe('multipart bodies (RFC 2046 §5.1, RFC 5621)', () => {
  it('splits the multipart/mixed body of RFC 4475 §3.1.1.11 (mpart01), binary part intact', () => {
    const msg = parseMessage(readFileSync(`${conformanceDir()}/mpart01.dat`), { stream: false });
    const ct = msg.headers.get('Content-Type');
    assert.ok(ct);
    const parts = parseMultipart(msg.body, ct);
    assert.equal(parts.length, 2);
    assert.equal(parts[0].headers.get('Content-Type'), 'text/plain');
    assert.equal(parts[0].body.toString(), 'Hello');
    assert.equal(parts[1].headers.get('content-type'), 'application/octet-stream');
    assert.equal(parts[1].headers.get('Content-Transfer-Encoding'), 'binary');
    assert.equal(parts[1].body[0], 0x30, 'a DER SEQUENCE');
    assert.equal(parts[1].body.length > 300, true);
  });

  it('reads a quoted boundary, a preamble, folded part headers, a part without headers and an epilogue', () => {
    const body = Buffer.from(
      [
        'preamble to ignore',
        '--b 1',
        'Content-Type: application/sdp;',
        '  charset=utf-8',
        '',
        'v=0',
        '--b 1',
        '',
        'no headers here',
        '--b 1--',
        'epilogue',
      ].join('\r\n'),
    );
    const parts = parseMultipart(body, 'multipart/mixed; boundary="b 1"');
    assert.equal(parts.length, 2);
    assert.equal(parts[0].headers.get('Content-Type'), 'application/sdp; charset=utf-8');
    assert.equal(parts[0].body.toString(), 'v=0');
    assert.equal(parts[1].headers.size, 0);
    assert.equal(parts[1].body.toString(), 'no headers here');
  });

  it('reads the boundary parameter (RFC 2046 §5.1.1)', () => {
    assert.equal(multipartBoundary('multipart/mixed;boundary=7a9cbec02ceef655'), '7a9cbec02ceef655');
    assert.throws(() => multipartBoundary('application/sdp'), isBad);
    assert.throws(() => multipartBoundary('multipart/mixed'), isBad);
    assert.throws(() => multipartBoundary('multipart/mixed;boundary="' + 'x'.repeat(71) + '"'), isBad);
    assert.throws(() => multipartBoundary('multipart/mixed;boundary="trailing "'), isBad);
  });

  it('refuses a body without its close delimiter or without any delimiter', () => {
    assert.throws(() => parseMultipart(Buffer.from('--b\r\n\r\nx\r\n'), 'multipart/mixed;boundary=b'), isBad);
    assert.throws(() => parseMultipart(Buffer.from('nothing here'), 'multipart/mixed;boundary=b'), isBad);
    assert.throws(() => parseMultipart(Buffer.from('--b\r\nBad Header\r\n\r\nx\r\n--b--'), 'multipart/mixed;boundary=b'), isBad);
  });

  it(`refuses more than ${MAX_MIME_PARTS} parts`, () => {
    const many = Array.from({ length: MAX_MIME_PARTS + 1 }, () => '--b\r\n\r\nx\r\n').join('') + '--b--';
    assert.throws(() => parseMultipart(Buffer.from(many), 'multipart/mixed;boundary=b'), isBad);
    const ok = Array.from({ length: MAX_MIME_PARTS }, () => '--b\r\n\r\nx\r\n').join('') + '--b--';
    assert.equal(parseMultipart(Buffer.from(ok), 'multipart/mixed;boundary=b').length, MAX_MIME_PARTS);
  });
});
