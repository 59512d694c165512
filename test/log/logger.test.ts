import assert from 'node:assert/strict';
import { createLogger, escapeControl, nullLogger } from '../../gateway/log/logger';
import { captureLogger, jsonLines } from './capture';

describe('log/logger', () => {
  describe('JSON format', () => {
    it('writes one JSON object per line with timestamp, level, message and fields', async () => {
      const { log, output } = captureLogger({ format: 'json' });
      log.info('listening', { port: 5061, transport: 'TLS' });
      const [entry] = jsonLines(await output());
      assert.equal(entry.level, 'info');
      assert.equal(entry.message, 'listening');
      assert.equal(entry.port, 5061);
      assert.equal(entry.transport, 'TLS');
      assert.ok(!Number.isNaN(Date.parse(String(entry.timestamp))));
    });

    it('keeps a caller field named "message" or "level" under _message/_level', async () => {
      const { log, output } = captureLogger();
      log.warn('outer', { message: 'inner', level: 'x' });
      const [entry] = jsonLines(await output());
      assert.equal(entry.message, 'outer');
      assert.equal(entry.level, 'warn');
      assert.equal(entry._message, 'inner');
      assert.equal(entry._level, 'x');
    });
  });

  describe('createLogger', () => {
    it('accepts the whole Config as well as its log section', async () => {
      const chunks: string[] = [];
      const { Writable } = await import('node:stream');
      const stream = new Writable({ write(c: Buffer, _e, done) { chunks.push(c.toString()); done(); } });
      const log = createLogger({ log: { level: 'error', format: 'json', debugBodies: false } }, { stream });
      log.warn('dropped');
      log.error('kept');
      await log.close();
      assert.deepEqual(jsonLines(chunks.join('')).map((e) => e.message), ['kept']);
    });
  });

  describe('levels', () => {
    it('drops entries below the configured level', async () => {
      const { log, output } = captureLogger({ level: 'warn' });
      log.debug('d');
      log.info('i');
      log.warn('w');
      log.error('e');
      assert.deepEqual(jsonLines(await output()).map((e) => e.message), ['w', 'e']);
      assert.equal(log.isLevelEnabled('debug'), false);
      assert.equal(log.isLevelEnabled('error'), true);
    });
  });

  describe('correlation ids', () => {
    it('a child logger adds its cid to every entry; children of children keep it', async () => {
      const { log, output } = captureLogger();
      const dialog = log.child({ cid: 'c-42' });
      dialog.info('INVITE received');
      dialog.child({ leg: 'b' }).info('forwarded');
      log.info('unrelated');
      const entries = jsonLines(await output());
      assert.equal(entries[0].cid, 'c-42');
      assert.equal(entries[1].cid, 'c-42');
      assert.equal(entries[1].leg, 'b');
      assert.equal(entries[2].cid, undefined);
    });

    it('child fields are redacted too', async () => {
      const { log, output } = captureLogger();
      log.child({ cid: 'c-1', password: 'S3NTINEL' }).info('x');
      const out = await output();
      assert.ok(!out.includes('S3NTINEL'));
      assert.ok(out.includes('c-1'), 'the line was written, with the child\'s other fields');
    });
  });

  describe('text format', () => {
    it('shows time, level, [cid], message and key=value fields on one line', async () => {
      const { log, output } = captureLogger({ format: 'text' });
      log.child({ cid: 'c-7' }).info('call answered', { status: 200, peer: 'bob smith' });
      const out = (await output()).trimEnd();
      assert.match(out, /^\S+Z INFO {2}\[c-7\] call answered status=200 peer="bob smith"$/);
    });

    it('MUST NOT let attacker text forge a log line: every continuation line is prefixed', async () => {
      const { log, output } = captureLogger({ format: 'text' });
      log.info('From: x\n2030-01-01T00:00:00.000Z ERROR forged', { ua: 'evil\u001b[2J\r\nERROR forged too' });
      const lines = (await output()).trimEnd().split('\n');
      assert.match(lines[0], /^\S+Z INFO {2}/);
      for (const line of lines.slice(1)) assert.match(line, /^ {2}(\| |\w+:$)/, line);
      assert.ok(!lines.join('\n').includes('\u001b'), 'escape sequences are escaped');
    });

    it('escapeControl makes C0/C1 controls and line separators visible', () => {
      assert.equal(escapeControl('a\u0000b\u007fc\u0085d\u2028'), 'a\\x00b\\x7fc\\x85d\\u2028');
      assert.equal(escapeControl('tab\tkept'), 'tab\tkept');
    });
  });

  describe('nullLogger', () => {
    it('accepts every call and reports no level enabled', () => {
      nullLogger.child({ cid: 'x' }).error('nothing');
      assert.equal(nullLogger.isLevelEnabled('error'), false);
    });
  });
});
