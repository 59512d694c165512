import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { ConfigError, defaultConfigPath, findPackageRoot, loadConfig } from '../../config/load';
import { configSchema } from '../../config/schema';
import type { SchemaNode } from '../../config/errors';
import { describeValue } from '../../config/errors';

/** The single-line message a ConfigError carries for the given options. */
function errorOf(opts: Parameters<typeof loadConfig>[0]): ConfigError {
  try {
    loadConfig({ env: {}, ...opts });
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('loadConfig accepted an invalid configuration');
}

describe('config/load', () => {
  let tmp: string;
  before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-config-')); });
  after(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

  function writeFile(name: string, text: string): string {
    const file = path.join(tmp, name);
    fs.writeFileSync(file, text);
    return file;
  }

  describe('default.yaml', () => {
    it('is found by walking up from the compiled module to package.json', () => {
      const root = findPackageRoot();
      assert.ok(fs.existsSync(path.join(root, 'package.json')));
      assert.equal(defaultConfigPath(), path.join(root, 'config', 'default.yaml'));
    });

    it('MUST provide every schema key (so adding a key without a default fails here)', () => {
      const doc = YAML.parse(fs.readFileSync(defaultConfigPath(), 'utf8')) as Record<string, unknown>;
      const missing: string[] = [];
      const walk = (node: SchemaNode, value: unknown, at: string): void => {
        for (const [key, child] of Object.entries(node.properties ?? {})) {
          const v = (value as Record<string, unknown>)[key];
          if (!Object.prototype.hasOwnProperty.call(value, key)) missing.push(`${at}${key}`);
          else if (child.type === 'object' && child.properties) walk(child, v, `${at}${key}.`);
        }
      };
      walk(configSchema as unknown as SchemaNode, doc, '');
      assert.deepEqual(missing, []);
    });

    it('gives the documented defaults for the keys outside tools rely on', () => {
      const c = loadConfig({ env: {}, cwd: tmp });
      assert.equal(c.dataDir, path.join(tmp, 'data'));
      assert.equal(c.sip.host, '0.0.0.0');
      assert.deepEqual(c.sip.hosts, ['0.0.0.0']);
      assert.equal(c.sip.udpPort, 5060);
      assert.equal(c.sip.tcpPort, 5060);
      assert.equal(c.sip.tlsPort, 5061);
      assert.equal(c.sip.domain, 'ciphergate.local');
      assert.equal(c.sip.realm, 'ciphergate.local');
      assert.deepEqual(c.sip.timers, { t1: 500, t2: 4000, t4: 5000 });
      assert.equal(c.sip.limits.maxMessageSize, 73728);
      assert.equal(c.sip.limits.maxHeaders, 256);
      assert.equal(c.sip.limits.maxHeaderLineLength, 8192);
      assert.equal(c.admin.host, '127.0.0.1');
      assert.equal(c.admin.port, 8089);
      assert.equal(c.media.portMin, 20000);
      assert.equal(c.media.portMax, 29999);
      // Field by field: later issues add keys to these sections without changing these defaults.
      assert.equal(c.tls.cert, '');
      assert.equal(c.tls.key, '');
      assert.equal(c.tls.ca, '');
      assert.equal(c.tls.requestClientCert, false);
      assert.equal(c.tls.rejectUnauthorizedClients, true);
      assert.deepEqual(c.log, { level: 'info', format: 'json', debugBodies: false });
    });

    it('returns a deep-frozen object', () => {
      const c = loadConfig({ env: {} });
      assert.throws(() => { (c.sip.timers as { t1: number }).t1 = 1; }, TypeError);
      assert.throws(() => { (c.sip.hosts as string[]).push('::'); }, TypeError);
    });
  });

  describe('precedence: default.yaml < --config < environment < --set', () => {
    it('a --config file overrides defaults key by key (siblings keep their defaults)', () => {
      const file = writeFile('p1.yaml', 'sip:\n  tlsPort: 5071\n  timers:\n    t1: 250\n');
      const c = loadConfig({ env: {}, file });
      assert.equal(c.sip.tlsPort, 5071);
      assert.equal(c.sip.udpPort, 5060);
      assert.deepEqual(c.sip.timers, { t1: 250, t2: 4000, t4: 5000 });
    });

    it('the environment overrides the file, --set overrides the environment', () => {
      const file = writeFile('p2.yaml', 'sip:\n  tlsPort: 5071\n  udpPort: 5070\n');
      const env = { CIPHERGATE__SIP__TLS_PORT: '5072' };
      assert.equal(loadConfig({ env, file }).sip.tlsPort, 5072);
      assert.equal(loadConfig({ env, file }).sip.udpPort, 5070);
      assert.equal(loadConfig({ env, file, set: ['sip.tlsPort=5073'] }).sip.tlsPort, 5073);
    });

    it('later --set items win over earlier ones', () => {
      assert.equal(loadConfig({ env: {}, set: ['sip.udpPort=1', 'sip.udpPort=2'] }).sip.udpPort, 2);
    });

    it('an empty --config file means "all defaults"', () => {
      const file = writeFile('empty.yaml', '# nothing\n');
      assert.equal(loadConfig({ env: {}, file }).sip.tlsPort, 5061);
    });

    it('a relative --config path resolves against cwd', () => {
      writeFile('rel.yaml', 'sip:\n  udpPort: 5999\n');
      assert.equal(loadConfig({ env: {}, file: 'rel.yaml', cwd: tmp }).sip.udpPort, 5999);
    });
  });

  describe('environment', () => {
    it('CIPHERGATE_DATA sets dataDir', () => {
      assert.equal(loadConfig({ env: { CIPHERGATE_DATA: '/var/lib/cg' } }).dataDir, '/var/lib/cg');
    });

    it('CIPHERGATE_DATA wins over CIPHERGATE__DATADIR; an empty CIPHERGATE_DATA is ignored', () => {
      const env = { CIPHERGATE_DATA: '/a', CIPHERGATE__DATADIR: '/b' };
      assert.equal(loadConfig({ env }).dataDir, '/a');
      assert.equal(loadConfig({ env: { CIPHERGATE_DATA: '', CIPHERGATE__DATADIR: '/b' } }).dataDir, '/b');
    });

    it('levels match case-insensitively and ignoring "_" (TLS_PORT, TLSPORT, tlsPort)', () => {
      for (const name of ['CIPHERGATE__SIP__TLS_PORT', 'CIPHERGATE__SIP__TLSPORT', 'CIPHERGATE__sip__tlsPort']) {
        assert.equal(loadConfig({ env: { [name]: '6001' } }).sip.tlsPort, 6001, name);
      }
    });

    it('values are YAML scalars: booleans, nested keys, lists', () => {
      const c = loadConfig({
        env: {
          CIPHERGATE__LOG__DEBUG_BODIES: 'true',
          CIPHERGATE__SIP__TIMERS__T1: '250',
          CIPHERGATE__SIP__HOSTS: '["0.0.0.0", "::"]',
        },
      });
      assert.equal(c.log.debugBodies, true);
      assert.equal(c.sip.timers.t1, 250);
      assert.deepEqual(c.sip.hosts, ['0.0.0.0', '::']);
    });

    it('variables without the CIPHERGATE__ prefix are ignored', () => {
      assert.equal(loadConfig({ env: { CIPHERGATE_OTHER: 'x', SIP_TLSPORT: '1' } }).sip.tlsPort, 5061);
    });

    it('an unknown key under CIPHERGATE__ is an error naming the variable', () => {
      assert.equal(errorOf({ env: { CIPHERGATE__SIP__TLSPRT: '1' } }).message,
        'config: environment CIPHERGATE__SIP__TLSPRT: unknown key');
    });
  });

  describe('--set', () => {
    const cases: [string, (c: ReturnType<typeof loadConfig>) => unknown, unknown][] = [
      ['dataDir=/srv/cg', (c) => c.dataDir, '/srv/cg'],
      ['sip.host=127.0.0.1', (c) => c.sip.host, '127.0.0.1'],
      ['sip.udpPort=0', (c) => c.sip.udpPort, 0],
      ['sip.tcpPort=5080', (c) => c.sip.tcpPort, 5080],
      ['sip.tlsPort=5081', (c) => c.sip.tlsPort, 5081],
      ['sip.domain=example.org', (c) => c.sip.domain, 'example.org'],
      ['sip.realm=voice', (c) => c.sip.realm, 'voice'],
      ['admin.port=9443', (c) => c.admin.port, 9443],
      ['admin.host=::1', (c) => c.admin.host, '::1'],
      ['media.portMin=21000', (c) => c.media.portMin, 21000],
      ['media.portMax=21999', (c) => c.media.portMax, 21999],
      ['tls.requestClientCert=true', (c) => c.tls.requestClientCert, true],
      ['tls.rejectUnauthorizedClients=false', (c) => c.tls.rejectUnauthorizedClients, false],
      ['sip.timers.t2=8000', (c) => c.sip.timers.t2, 8000],
      ['sip.limits.maxHeaders=100', (c) => c.sip.limits.maxHeaders, 100],
      ['sip.maxConnections=10', (c) => c.sip.maxConnections, 10],
      ['sip.idleTimeoutSec=60', (c) => c.sip.idleTimeoutSec, 60],
      ['log.level=debug', (c) => c.log.level, 'debug'],
      ['log.format=text', (c) => c.log.format, 'text'],
      ['log.debugBodies=true', (c) => c.log.debugBodies, true],
    ];
    for (const [item, get, expected] of cases) {
      it(`sets ${item}`, () => {
        const set = item.startsWith('tls.requestClientCert') ? [item, 'tls.rejectUnauthorizedClients=false'] : [item];
        assert.deepEqual(get(loadConfig({ env: {}, set })), expected);
      });
    }

    it('sets a dual-stack host list from a YAML flow sequence', () => {
      assert.deepEqual(loadConfig({ env: {}, set: ['sip.hosts=["0.0.0.0", "::"]'] }).sip.hosts, ['0.0.0.0', '::']);
    });

    it('takes string keys verbatim (a numeric-looking domain stays a string)', () => {
      assert.equal(loadConfig({ env: {}, set: ['sip.domain=123'] }).sip.domain, '123');
    });

    it('an empty sip.hosts list falls back to sip.host', () => {
      assert.deepEqual(loadConfig({ env: {}, set: ['sip.host=127.0.0.1', 'sip.hosts=[]'] }).sip.hosts, ['127.0.0.1']);
    });

    it('resolves relative dataDir and tls paths against cwd', () => {
      const c = loadConfig({ env: {}, cwd: tmp, set: ['dataDir=d', 'tls.cert=c.pem', 'tls.key=k.pem'] });
      assert.equal(c.dataDir, path.join(tmp, 'd'));
      assert.equal(c.tls.cert, path.join(tmp, 'c.pem'));
      assert.equal(c.tls.key, path.join(tmp, 'k.pem'));
    });

    it('cannot pollute Object.prototype', () => {
      assert.equal(errorOf({ set: ['__proto__.polluted=1'] }).message, 'config: __proto__: unknown key');
      const file = writeFile('proto.yaml', '__proto__:\n  polluted: 1\n');
      assert.equal(errorOf({ file }).message, 'config: __proto__: unknown key');
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    });
  });

  describe('errors name the key path and what is wrong', () => {
    it('wrong type', () => {
      assert.equal(errorOf({ set: ['sip.tlsPort=abc'] }).message,
        'config: sip.tlsPort: must be an integer 0..65535 (got "abc")');
    });

    it('out of range', () => {
      assert.equal(errorOf({ set: ['sip.udpPort=70000'] }).message,
        'config: sip.udpPort: must be an integer 0..65535 (got 70000)');
    });

    it('unknown key from --set, and from a file', () => {
      assert.equal(errorOf({ set: ['sip.tlsPrt=5061'] }).message, 'config: sip.tlsPrt: unknown key');
      const file = writeFile('typo.yaml', 'sip:\n  tlsPrt: 5061\n');
      assert.equal(errorOf({ file }).message, 'config: sip.tlsPrt: unknown key');
    });

    it('enum, boolean, IP literal, host name, list item', () => {
      assert.equal(errorOf({ set: ['log.level=trace'] }).message,
        'config: log.level: must be one of: error, warn, info, debug (got "trace")');
      assert.equal(errorOf({ set: ['log.debugBodies=yes'] }).message,
        'config: log.debugBodies: must be true or false (got "yes")');
      assert.equal(errorOf({ set: ['sip.host=localhost'] }).message,
        'config: sip.host: must be an IP address literal, e.g. 0.0.0.0 or :: (got "localhost")');
      assert.equal(errorOf({ set: ['sip.domain=a,CN=evil'] }).message,
        'config: sip.domain: must be a domain name or IP address (got "a,CN=evil")');
      assert.equal(errorOf({ set: ['sip.hosts=["0.0.0.0", "nope"]'] }).message,
        'config: sip.hosts[1]: must be an IP address literal, e.g. 0.0.0.0 or :: (got "nope")');
    });

    it('media.nice out of setpriority\'s range, and null accepted', () => {
      assert.equal(errorOf({ set: ['media.nice=-21'] }).message, 'config: media.nice: must be an integer -20..19 or null (got -21)');
      assert.equal(loadConfig({ env: {}, set: ['media.nice=null'] }).media.nice, null);
      assert.equal(loadConfig({ env: {}, set: ['media.nice=-5'] }).media.nice, -5);
    });

    it('media.scheduling and media.rtPriority: sched(7)\'s policies and real-time range only', () => {
      assert.equal(errorOf({ set: ['media.scheduling=batch'] }).message, 'config: media.scheduling: must be one of: other, fifo, rr (got "batch")');
      assert.equal(errorOf({ set: ['media.rtPriority=0'] }).message, 'config: media.rtPriority: must be an integer 1..99 (got 0)');
      assert.equal(errorOf({ set: ['media.rtPriority=100'] }).message, 'config: media.rtPriority: must be an integer 1..99 (got 100)');
      const c = loadConfig({ env: {}, set: ['media.scheduling=fifo', 'media.rtPriority=20'] });
      assert.deepEqual([c.media.scheduling, c.media.rtPriority], ['fifo', 20]);
      assert.deepEqual([loadConfig({ env: {} }).media.scheduling, loadConfig({ env: {} }).media.rtPriority], ['other', 10], 'the defaults');
    });

    it('media.portMin > media.portMax', () => {
      assert.equal(errorOf({ set: ['media.portMin=25000', 'media.portMax=24000'] }).message,
        'config: media.portMin: must not exceed media.portMax (25000 > 24000)');
    });

    it('cross-key rules: T2 < T1, TLS port = TCP port, cert without key, client certs without CA', () => {
      assert.equal(errorOf({ set: ['sip.timers.t1=5000', 'sip.timers.t2=4000'] }).message,
        'config: sip.timers.t2: must be >= sip.timers.t1 (4000 < 5000)');
      assert.equal(errorOf({ set: ['sip.tlsPort=5060'] }).message,
        'config: sip.tlsPort: must differ from sip.tcpPort (both 5060)');
      assert.equal(errorOf({ set: ['tls.cert=/x.pem'] }).message, 'config: tls.key: must be set when tls.cert is set');
      assert.equal(errorOf({ set: ['tls.requestClientCert=true'] }).message,
        'config: tls.ca: must be set when tls.requestClientCert and tls.rejectUnauthorizedClients are true');
    });

    it('reports every problem at once, one line each', () => {
      const err = errorOf({ set: ['sip.tlsPort=abc', 'log.format=xml'] });
      assert.equal(err.issues.length, 2);
      assert.deepEqual(err.message.split('\n'), [
        'config: sip.tlsPort: must be an integer 0..65535 (got "abc")',
        'config: log.format: must be one of: json, text (got "xml")',
      ]);
    });

    it('unreadable file', () => {
      const file = path.join(tmp, 'missing.yaml');
      assert.equal(errorOf({ file }).message, `config: ${file}: cannot read (no such file)`);
      assert.equal(errorOf({ file: tmp }).message, `config: ${tmp}: cannot read (is a directory)`);
    });

    it('bad YAML names file, line and column', () => {
      const file = writeFile('bad.yaml', 'sip:\n  tlsPort: 5061\n  hosts: [0.0.0.0\nlog:\n  level: info\n');
      assert.match(errorOf({ file }).message, new RegExp(`^config: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: bad YAML: \\S`));
      const dup = writeFile('dup.yaml', 'sip:\n  tlsPort: 1\n  tlsPort: 2\n');
      assert.equal(errorOf({ file: dup }).message, `config: ${dup}:3:3: bad YAML: Map keys must be unique`);
    });

    it('a file whose top level is not a mapping', () => {
      const file = writeFile('list.yaml', '- a\n- b\n');
      assert.equal(errorOf({ file }).message, `config: ${file}: top level must be a mapping`);
    });

    it('--set without "="', () => {
      assert.equal(errorOf({ set: ['sip.tlsPort'] }).message, 'config: --set "sip.tlsPort": expected key=value');
    });

    it('never echoes the value of a secret-named key', () => {
      assert.equal(describeValue('hunter2', 'password'), 'value hidden');
      assert.equal(describeValue('hunter2', 'trunkSecret'), 'value hidden');
      assert.equal(describeValue('abc', 'tlsPort'), 'got "abc"');
    });
  });
});
