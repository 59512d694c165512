/**
 * `ciphergate metrics token rotate` on a STOPPED gateway (the CLI works on <dataDir> directly):
 * a scrape-only token printed once, older metrics tokens revoked, admin tokens left alone, and
 * the other way round for `admin token rotate`.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { AdminTokens } from '../../gateway/admin/tokens';
import { openAccountStore } from '../../gateway/store';
import { hideShownOnce } from '../helpers/hide-secrets';
import { makeDataDir, removeDataDir } from '../store/fixtures';
import { cli } from './users-helpers';

const METRICS_LINE = /^Metrics token \(shown once\): ([A-Za-z0-9_-]{43})\n/;
const ADMIN_LINE = /^Admin API token \(shown once\): ([A-Za-z0-9_-]{43})\n/;

/** The stored tokens' labels, and the scope each given token verifies under (undefined: refused). */
async function inspect(dir: string, tokens: readonly string[]): Promise<{ labels: string[]; scopes: (string | undefined)[] }> {
  const { store, masterKey } = await openAccountStore(dir);
  const verifier = new AdminTokens(store.adminTokens, masterKey);
  try {
    const labels = (await store.adminTokens.list()).map((t) => t.label).sort();
    const scopes: (string | undefined)[] = [];
    for (const t of tokens) scopes.push((await verifier.verify(t))?.label);
    return { labels, scopes };
  } finally {
    verifier.dispose();
    masterKey.dispose();
    await store.close();
  }
}

describe('ciphergate metrics token rotate (stopped gateway)', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(() => { dir = makeDataDir(); });
  afterEach(() => { removeDataDir(dir); });

  it('MUST print a metrics token once, then revoke it on the next rotation, leaving the admin token', async () => {
    const admin = await cli(dir, ['admin', 'token', 'rotate']);
    const adminToken = ADMIN_LINE.exec(admin.stdout)?.[1];
    assert.ok(adminToken, hideShownOnce(admin.stdout));

    const first = await cli(dir, ['metrics', 'token', 'rotate']);
    assert.equal(first.code, 0, first.stderr);
    const m1 = /^Metrics token \(shown once\): ([A-Za-z0-9_-]{43})\nNo earlier metrics token existed\.\n$/.exec(first.stdout);
    assert.ok(m1, hideShownOnce(first.stdout));
    const second = await cli(dir, ['metrics', 'token', 'rotate']);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /\nRevoked 1 earlier metrics token\(s\): scrapes with them now get 401\.\n$/);
    const m2 = METRICS_LINE.exec(second.stdout)?.[1];
    assert.ok(m2);

    const state = await inspect(dir, [adminToken, m1[1]!, m2]);
    assert.deepEqual(state.labels, ['admin', 'metrics']);
    assert.deepEqual(state.scopes, ['admin', undefined, 'metrics']);
    const audit = fs.readFileSync(path.join(dir, 'audit.log'), 'utf8');
    assert.match(audit, /"action":"token\.rotate-metrics"/);
    for (const t of [adminToken, m1[1]!, m2]) assert.ok(!audit.includes(t), 'a token appears in the audit log');
  });

  it('MUST leave metrics tokens valid when the admin token is rotated', async () => {
    const metrics = METRICS_LINE.exec((await cli(dir, ['metrics', 'token', 'rotate'])).stdout)?.[1];
    assert.ok(metrics);
    const a1 = ADMIN_LINE.exec((await cli(dir, ['admin', 'token', 'rotate'])).stdout)?.[1];
    const rotated = await cli(dir, ['admin', 'token', 'rotate']);
    assert.match(rotated.stdout, /\nRevoked 1 earlier token\(s\)/, 'only the one admin token');
    const a2 = ADMIN_LINE.exec(rotated.stdout)?.[1];
    assert.ok(a1 && a2);
    assert.deepEqual((await inspect(dir, [metrics, a1, a2])).scopes, ['metrics', undefined, 'admin']);
  });

  it('MUST list the command in --help and name it when `metrics token` lacks a subcommand', async () => {
    const help = await cli(dir, ['--help']);
    assert.match(help.stdout, /\n {2}metrics token rotate +Mint a new scrape-only \/metrics token/);
    const bare = await cli(dir, ['metrics', 'token']);
    assert.equal(bare.code, 2);
    assert.match(bare.stderr, /'metrics token' needs a subcommand: metrics token rotate/);
    const own = await cli(dir, ['metrics', 'token', 'rotate', '--help']);
    assert.equal(own.code, 0);
    assert.match(own.stdout, /reads GET \/metrics on the admin listener and nothing else/);
  });
});
