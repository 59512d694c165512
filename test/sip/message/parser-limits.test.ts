import { strict as assert } from 'node:assert';
import { parseError, parseRequest, requestLines, wire } from './helpers';

describe('SIP message parser: limits', () => {
  describe('limits (ParserLimits)', () => {
    it('refuses a message over maxMessageSize with 513, unread', () => {
      const e = parseError(wire(requestLines()), { stream: false, limits: { maxMessageSize: 100 } });
      assert.equal(e.status, 513);
      assert.equal(e.canRespond, false);
    });

    it('refuses more than maxHeaders fields', () => {
      const extra = Array.from({ length: 20 }, (_, i) => `X-H${i}: ${i}`);
      const e = parseError(wire(requestLines('OPTIONS', extra)), { stream: false, limits: { maxHeaders: 10 } });
      assert.equal(e.reason, 'Bad Request - Too Many Headers');
      assert.equal(e.canRespond, true);
    });

    it('refuses a field longer than maxHeaderLineLength, folded lines included', () => {
      const e = parseError(wire(requestLines('OPTIONS', ['Subject: ' + 'a'.repeat(50) + '\r\n ' + 'b'.repeat(50)])), { stream: false, limits: { maxHeaderLineLength: 80 } });
      assert.equal(e.reason, 'Bad Request - Header Too Long');
      assert.equal(parseRequest(wire(requestLines('OPTIONS', ['Subject: ' + 'a'.repeat(8000)]))).headers.get('Subject')?.length, 8000);
    });

    it('refuses more than maxListValues values of one list header', () => {
      const opts = { stream: false, limits: { maxListValues: 4 } };
      assert.equal(parseError(wire(requestLines('OPTIONS', ['Allow: A, B, C', 'Allow: D, E'])), opts).reason, 'Bad Request - Too Many Allow Values');
      assert.equal(parseError(wire(requestLines('REGISTER', ['Contact: <sip:a@b>, <sip:c@d>, <sip:e@f>, <sip:g@h>, <sip:i@j>'])), opts).reason, 'Bad Request - Too Many Contact Values');
      const vias = Array.from({ length: 5 }, (_, i) => `Via: SIP/2.0/UDP h${i}.example.com`);
      assert.equal(parseError(wire(requestLines('OPTIONS', vias)), opts).reason, 'Bad Request - Too Many Via Values');
    });

    describe('a 64 KB datagram with ~6000 Contact values (Contact bomb)', () => {
      const head = requestLines('REGISTER').join('\r\n') + '\r\n';
      const contacts = Array.from({ length: 6000 }, (_, i) => `sip:h${i}`);
      const cases: Array<[string, Buffer, object | undefined]> = [
        ['in one Contact field', Buffer.from(head + 'Contact: ' + contacts.join(',') + '\r\n\r\n'), undefined],
        ['in one field with the line limit lifted', Buffer.from(head + 'Contact: ' + contacts.join(',') + '\r\n\r\n'), { maxHeaderLineLength: 1 << 20 }],
        ['spread over many Contact fields', Buffer.from(head + contacts.map((c) => 'm:' + c).join('\r\n') + '\r\n\r\n').subarray(0, 65535), undefined],
      ];
      for (const [what, data, limits] of cases) {
        it(`is rejected with a 400 ${what}`, () => {
          assert.ok(data.length > 50_000 && data.length <= 65535);
          const e = parseError(data, { stream: false, limits });
          assert.equal(e.status, 400);
        });
      }
      it('parses when the limits allow it (the limit, not the parser, decides)', () => {
        const data = Buffer.from(head + 'Contact: ' + contacts.join(',') + '\r\n\r\n');
        const r = parseRequest(data, { stream: false, limits: { maxHeaderLineLength: 1 << 20, maxListValues: 10_000 } });
        assert.equal(Array.isArray(r.contact) && r.contact.length, 6000);
      });
    });
  });
});
