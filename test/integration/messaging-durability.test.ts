/**
 * Durability of store-and-forward (RFC 3428 §7: 202 Accepted is a promise): the real gateway, a
 * child process, is killed with SIGKILL while it stores 1,000 MESSAGEs for an offline user under
 * pipelined load. After a restart on the same files, every message that got a 202 is delivered
 * exactly once, in order; afterwards the store is empty and no file of the database (WAL
 * included) holds a plaintext body.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { provision } from './peers/gateway';
import { startChildGateway, type ChildGateway } from '../messaging/child-gateway';
import { MessagingUa } from '../messaging/ua';

const USERS: Record<string, string> = { alice: 'Tr0ub4dor&3x!', bob: 'correct-Horse-7-battery' };
const DOMAIN = 'localhost';
const TOTAL = 1000;
const WINDOW = 64;
const MARKER = 'durability-body-';

describe('Integration: messaging durability (kill -9 while storing)', function () {
  this.timeout(120_000);
  let dataDir: string;
  let gw: ChildGateway | undefined;
  const uas: MessagingUa[] = [];

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-msg-durable-'));
    await provision(dataDir, DOMAIN, USERS);
  });
  after(async () => {
    for (const u of uas) u.close();
    await gw?.kill();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function ua(g: ChildGateway, user: string): Promise<MessagingUa> {
    const u = await MessagingUa.connect({ port: g.tlsPort, ca: g.ca, user, password: USERS[user]!, domain: DOMAIN, realm: DOMAIN });
    uas.push(u);
    return u;
  }

  const body = (n: number): string => `${MARKER}${String(n).padStart(4, '0')}`;

  it('MUST deliver every message that got a 202 exactly once after a SIGKILL and restart', async () => {
    gw = await startChildGateway(dataDir, [`sip.domain=${DOMAIN}`]);
    const alice = await ua(gw, 'alice');
    const accepted: number[] = [];
    const other: string[] = [];
    let killed = false;
    let next = 0;
    const killAt = 250 + Math.floor(Math.random() * 400);
    // WINDOW senders share the counter: up to WINDOW MESSAGEs in flight on the one connection.
    const worker = async (): Promise<void> => {
      while (next < TOTAL && !killed) {
        const n = next++;
        try {
          const res = await alice.send('bob', body(n));
          if (res.status === 202) accepted.push(n);
          else other.push(`${n}:${res.status}`);
          if (!killed && accepted.length >= killAt) {
            killed = true;
            gw!.child.kill('SIGKILL');
          }
        } catch {
          // The connection died with the gateway: this one got no answer (it may or may not be stored).
        }
      }
    };
    await Promise.all(Array.from({ length: WINDOW }, worker));
    await gw.kill();
    assert.ok(killed, `the kill happened under load (${accepted.length} accepted)`);
    assert.deepEqual(other, [], 'every answer before the kill was 202');
    const sent = next;
    assert.ok(sent > accepted.length, 'messages were still in flight at the kill');

    gw = await startChildGateway(dataDir, [`sip.domain=${DOMAIN}`]);
    const bob = await ua(gw, 'bob');
    assert.equal(await bob.register(), 200);
    await bob.waitReceived(accepted.length, 60_000);
    await new Promise((r) => setTimeout(r, 1500)); // anything extra or duplicated would arrive now
    const got = bob.bodies().map((b) => Number(b.slice(MARKER.length)));
    const counts = new Map<number, number>();
    for (const n of got) counts.set(n, (counts.get(n) ?? 0) + 1);
    for (const n of accepted) assert.equal(counts.get(n), 1, `message ${n} (202) delivered exactly once`);
    assert.ok([...counts.values()].every((c) => c === 1), 'nothing delivered twice');
    assert.ok(got.every((n) => n < sent), 'nothing that was never sent');
    assert.deepEqual(got, [...got].sort((a, b) => a - b), 'delivered in the order they arrived');

    // An orderly stop, a second restart and a second registration bring nothing again.
    bob.close();
    await gw.stop();
    gw = await startChildGateway(dataDir, [`sip.domain=${DOMAIN}`]);
    const bobAgain = await ua(gw, 'bob');
    assert.equal(await bobAgain.register(), 200);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(bobAgain.received.length, 0);
    bobAgain.close();
    await gw.stop();
    gw = undefined;

    const db = new BetterSqlite3(path.join(dataDir, 'ciphergate.db'), { readonly: true });
    try {
      assert.equal((db.prepare('SELECT count(*) AS n FROM messages').get() as { n: number }).n, 0, 'the store is empty');
    } finally {
      db.close();
    }
    for (const f of ['ciphergate.db', 'ciphergate.db-wal', 'ciphergate.db-shm']) {
      const file = path.join(dataDir, f);
      if (fs.existsSync(file)) assert.equal(fs.readFileSync(file).includes(Buffer.from(MARKER)), false, `no plaintext body in ${f}`);
    }
  });
});
