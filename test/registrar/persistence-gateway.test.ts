/**
 * The binding write-behind in the running gateway (gateway/server.ts): the registrar writes on a
 * connection of its own with synchronous=NORMAL, a stop flushes the bindings before that
 * connection closes (LIFO teardown), and no handle on the database files outlives the stop (what
 * `ciphergate zeroize` relies on: it stops the gateway, then overwrites the files).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { databasePath } from '../../gateway/store';
import { SipUa } from '../b2bua/sip-ua';
import { startTestGateway, type TestGateway } from '../helpers/in-process-gateway';

const PASSWORD = 'Wonderland-Key-81';
const AOR = 'sip:alice@127.0.0.1';

/** Open file descriptors of this process on the database or its -wal/-shm (Linux /proc). */
function openDatabaseHandles(dataDir: string): string[] {
  const db = databasePath(dataDir);
  const out: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(db)) out.push(target);
    } catch {
      // closed between readdir and readlink
    }
  }
  return out;
}

describe('registrar: bindings across a gateway stop and start', function () {
  this.timeout(30_000);
  let dataDir: string;
  let gw: TestGateway | undefined;
  let ua: SipUa | undefined;
  before(() => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'cg-bindings-'));
  });
  after(async () => {
    ua?.close();
    await gw?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('MUST write bindings on a connection of its own with synchronous=NORMAL (the accounts one keeps FULL)', async () => {
    gw = await startTestGateway(['sip.domain=127.0.0.1'], dataDir);
    assert.equal(gw.gw.bindingStore.synchronous(), 'NORMAL');
    assert.equal(gw.gw.store.registrations.synchronous(), 'FULL');
  });

  it('MUST flush the bindings at stop, then close that connection, leaving no open handle on the database', async () => {
    assert.ok(gw !== undefined);
    await gw.gw.users.add('alice', { password: PASSWORD });
    ua = await SipUa.tls(gw.port('TLS'), 'alice', PASSWORD);
    const res = await ua.register(600);
    assert.equal(res.status, 200);
    const running = gw.gw;
    // Observe the teardown order: the binding connection closes after the registrar's stop (its flush).
    const order: string[] = [];
    const stopRegistrar = running.registrar.stop.bind(running.registrar);
    running.registrar.stop = async () => {
      await stopRegistrar();
      order.push(`registrar stopped, ${running.registrar.pendingWrites} pending`);
    };
    const closeBindings = running.bindingStore.close.bind(running.bindingStore);
    running.bindingStore.close = () => {
      order.push('binding store closed');
      closeBindings();
    };
    const stopping = gw.stop();
    gw = undefined;
    await stopping;
    assert.deepEqual(order, ['registrar stopped, 0 pending', 'binding store closed']);
    assert.equal(running.bindingStore.open, false);
    if (process.platform === 'linux') assert.deepEqual(openDatabaseHandles(dataDir), []);
    ua.close();
    ua = undefined;
  });

  it('MUST load the stored binding after a restart, unreachable until the UA registers again (RFC 5626 §5.3)', async () => {
    gw = await startTestGateway(['sip.domain=127.0.0.1'], dataDir);
    const bindings = gw.gw.registrar.locate(AOR);
    assert.equal(bindings.length, 1);
    assert.equal(bindings[0]!.transport, 'TLS');
    assert.equal(bindings[0]!.reachable, false, 'its TLS flow died with the old process');
  });
});
