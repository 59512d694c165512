/**
 * Messaging on loopback for the tests: the registrar harness (real TLS transport, SIP stack,
 * Defence, accounts store, Registrar with a controllable clock) plus a MessagingService on its own
 * connection to the same database, sharing the clock, with limits the test chooses.
 */
import fs from 'node:fs';
import path from 'node:path';
import { nullLogger } from '../../gateway/log/logger';
import { MessagingService, openMessagingDatabase, type MessagingLimits } from '../../gateway/messaging';
import { openMasterKey, type MasterKey } from '../../gateway/store';
import { DOMAIN, openHarness, PASSWORDS, REALM, type Harness } from '../registrar/harness';
import { MessagingUa } from './ua';

export { DOMAIN, REALM };

/** Every account of the messaging tests and its password. */
export const ACCOUNTS: Readonly<Record<string, string>> = {
  ...PASSWORDS,
  carol: 'Sings-42-Loudly-Kx',
  dave: 'Paints-97-Walls-Qz',
  erin: 'Rides-55-Bikes-Wy',
};

export interface MessagingHarness extends Harness {
  messaging: MessagingService;
  masterKey: MasterKey;
  /** A UA for `user` connected over TLS (not registered yet); closed by close(). */
  ua(user: string, opts?: { instance?: string | null; password?: string }): Promise<MessagingUa>;
  /** A UA connected and registered (200 asserted). */
  online(user: string, opts?: { instance?: string | null }): Promise<MessagingUa>;
  /** Restarts the messaging service on the same database (a gateway restart, for its part). */
  restartMessaging(): Promise<void>;
  /** Every file of the SQLite database (main, -wal, -shm) that exists. */
  dbFiles(): string[];
}

export async function openMessagingHarness(limits: Partial<MessagingLimits> = {}): Promise<MessagingHarness> {
  const h = await openHarness();
  for (const [name, password] of Object.entries(ACCOUNTS)) {
    if ((await h.users.get(name)) === undefined) await h.users.add(name, { password });
  }
  const masterKey = openMasterKey(h.dataDir, { create: false });
  const make = (): MessagingService => {
    const m = new MessagingService({
      core: h.stack.core,
      transactions: h.stack.transactions,
      registrar: h.registrar,
      users: h.users,
      db: openMessagingDatabase(h.dataDir),
      masterKey,
      domain: DOMAIN,
      listenAddresses: ['127.0.0.1'],
      log: nullLogger,
      now: () => h.clock.now,
      limits,
    });
    m.start();
    return m;
  };
  const uas: MessagingUa[] = [];
  const mh: MessagingHarness = Object.assign(h, {
    messaging: make(),
    masterKey,
    async ua(user: string, opts: { instance?: string | null; password?: string } = {}) {
      const u = await MessagingUa.connect({
        port: h.ports.TLS, ca: h.ca, user, password: opts.password ?? ACCOUNTS[user]!, domain: DOMAIN, realm: REALM,
        ...(opts.instance !== undefined && { instance: opts.instance }),
      });
      uas.push(u);
      return u;
    },
    async online(user: string, opts: { instance?: string | null } = {}) {
      const u = await mh.ua(user, opts);
      const status = await u.register();
      if (status !== 200) throw new Error(`${user} did not register: ${status}`);
      return u;
    },
    async restartMessaging() {
      await mh.messaging.stop();
      mh.messaging = make();
    },
    dbFiles() {
      return ['ciphergate.db', 'ciphergate.db-wal', 'ciphergate.db-shm'].map((f) => path.join(h.dataDir, f)).filter((f) => fs.existsSync(f));
    },
  });
  const close = h.close.bind(h);
  mh.close = async (o = {}) => {
    for (const u of uas) u.close();
    await mh.messaging.stop();
    masterKey.dispose();
    await close(o);
  };
  return mh;
}

/** Polls `check` every 5 ms until it holds; rejects after `timeoutMs`. */
export async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Whether any of the files contains `needle` (a byte scan). */
export function filesContain(files: readonly string[], needle: Buffer): boolean {
  return files.some((f) => fs.readFileSync(f).includes(needle));
}
