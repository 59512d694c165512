/** The `routing`, `trunks` and `cdr` configuration keys, through the real loader (config/load.ts). */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../config/load';

function withFile(yaml: string, fn: (file: string) => void): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-routing-cfg-'));
  try {
    const file = path.join(dir, 'c.yaml');
    fs.writeFileSync(file, yaml);
    fn(file);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function loadError(yaml: string): string {
  let message = '';
  withFile(yaml, (file) => {
    try {
      loadConfig({ file, env: {} });
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      message = err.message;
    }
  });
  assert.notEqual(message, '', 'the configuration was accepted');
  return message;
}

describe('Routing: configuration keys routing, trunks, cdr', () => {
  it('has defaults: no rules, no trunks, CDRs on with 90 days of retention', () => {
    const c = loadConfig({ env: {} });
    assert.deepEqual(c.routing.rules, []);
    assert.deepEqual(c.trunks, []);
    assert.deepEqual(c.cdr, { enabled: true, retentionDays: 90, sweepIntervalSec: 3600 });
  });

  it('resolves a trunk and the rules that use it', () => {
    withFile(
      [
        'routing: { countryCode: "33", nationalPrefix: "0", rules: [{ name: fr, prefix: "+33", trunks: [pbx] }],',
        '  shortCodes: [{ code: "112", trunks: [pbx], emergency: true }] }',
        'trunks:',
        '  - { name: pbx, host: 127.0.0.1, transport: UDP, auth: { username: gw, password: "pw-123" }, keepAlive: { intervalSec: 10 } }',
      ].join('\n'),
      (file) => {
        const c = loadConfig({ file, env: {} });
        assert.equal(c.trunks[0].name, 'pbx');
        assert.equal(c.trunks[0].keepAlive?.intervalSec, 10);
        assert.equal(c.trunks[0].port, undefined);
        assert.deepEqual(c.routing.rules, [{ name: 'fr', prefix: '+33', trunks: ['pbx'] }]);
        assert.equal(c.routing.shortCodes[0].emergency, true);
      },
    );
  });

  it('refuses a rule that names a trunk that does not exist', () => {
    assert.match(loadError('routing: { rules: [{ name: x, prefix: "+", trunks: [ghost] }] }'), /no trunk named "ghost"/);
  });

  it('refuses SRTP toward a trunk reached over UDP (SDES keys would travel in clear, RFC 4568 §8.3)', () => {
    assert.match(loadError('trunks: [{ name: p, host: 127.0.0.1, transport: UDP, media: { srtp: true } }]'), /srtp needs transport TLS/);
  });

  it('refuses a trunk host that is not an IP address', () => {
    assert.match(loadError('trunks: [{ name: p, host: pbx.example.com, transport: UDP }]'), /trunks\[0\]\.host/);
  });

  it('never echoes a trunk password in an error', () => {
    const message = loadError('trunks: [{ name: p, host: 127.0.0.1, transport: UDP, auth: { username: gw, password: "Secret-Pw-1", ha1: "zz" } }]');
    assert.doesNotMatch(message, /Secret-Pw-1/);
  });

  it('refuses an unknown key inside a trunk (a typo is never silently ignored)', () => {
    assert.match(loadError('trunks: [{ name: p, host: 127.0.0.1, transport: UDP, passwrod: x }]'), /passwrod/);
  });
});
