import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SqliteStore, StoreConflictError, StoreNotFoundError, type RegistrationBinding, type UserRecord } from '../../gateway/store';
import { makeDataDir, removeDataDir } from './fixtures';

const T0 = 1_700_000_000_000;
const FP_A = 'a'.repeat(64);

function user(name: string, number?: string): UserRecord {
  return {
    name,
    ...(number !== undefined && { number }),
    state: 'active',
    mayCallOffNet: false,
    mayCallInternational: false,
    createdAt: T0,
    updatedAt: T0,
  };
}

function binding(over: Partial<RegistrationBinding> = {}): RegistrationBinding {
  return {
    aor: 'sip:alice@ciphergate.local',
    contact: 'sip:alice@192.0.2.10:5061;transport=tls',
    user: 'alice',
    callId: 'c1@192.0.2.10',
    cseq: 1,
    expiresAt: T0 + 3600_000,
    transport: 'TLS',
    remoteAddress: '192.0.2.10',
    remotePort: 50123,
    flowId: 'tls-1',
    path: [],
    registeredAt: T0,
    updatedAt: T0,
    ...over,
  };
}

describe('store: records (users, registrations, certificate bindings, admin tokens)', () => {
  let dataDir: string;
  let store: SqliteStore;
  beforeEach(async () => {
    dataDir = makeDataDir();
    store = SqliteStore.open(dataDir);
    await store.users.create(user('alice', '+41446681800'));
    await store.users.create(user('bob'));
  });
  afterEach(async () => {
    await store.close();
    removeDataDir(dataDir);
  });

  describe('users', () => {
    it('MUST refuse a second user with the same name or number', async () => {
      await assert.rejects(store.users.create(user('alice')), (e: unknown) => e instanceof StoreConflictError && e.field === 'name');
      await assert.rejects(store.users.create(user('carol', '+41446681800')), (e: unknown) => e instanceof StoreConflictError && e.field === 'number');
    });

    it('MUST find a user by E.164 number and list users by name', async () => {
      assert.equal((await store.users.getByNumber('+41446681800'))?.name, 'alice');
      assert.deepEqual((await store.users.list()).map((u) => u.name), ['alice', 'bob']);
    });

    it('MUST update only the given fields and clear a field given as null', async () => {
      const updated = await store.users.update('alice', { displayName: 'Alice', mayCallOffNet: true }, T0 + 1);
      assert.equal(updated?.displayName, 'Alice');
      assert.equal(updated?.mayCallOffNet, true);
      assert.equal(updated?.number, '+41446681800');
      assert.equal(updated?.updatedAt, T0 + 1);
      const cleared = await store.users.update('alice', { number: null }, T0 + 2);
      assert.equal(cleared?.number, undefined);
      assert.equal(await store.users.update('nobody', { state: 'blocked' }, T0), undefined);
    });
  });

  describe('RFC 3261 §10.3 registration bindings', () => {
    it('MUST store a binding with every field and return it by AOR', async () => {
      const b = binding({ qMilli: 700, localAddress: '198.51.100.1', localPort: 5061, path: ['<sip:edge.example;lr>'], userAgent: 'baresip' });
      await store.registrations.upsert(b);
      assert.deepEqual(await store.registrations.list(b.aor), [b]);
    });

    it('MUST replace the binding of the same AOR and Contact (step 7 update), keeping registeredAt', async () => {
      await store.registrations.upsert(binding());
      await store.registrations.upsert(binding({ cseq: 2, expiresAt: T0 + 7200_000, registeredAt: T0 + 60_000, updatedAt: T0 + 60_000 }));
      const list = await store.registrations.list('sip:alice@ciphergate.local');
      assert.equal(list.length, 1);
      assert.equal(list[0]?.cseq, 2);
      assert.equal(list[0]?.registeredAt, T0);
      assert.equal(list[0]?.updatedAt, T0 + 60_000);
    });

    it('MUST order bindings by q-value, highest first (§16.6 candidates)', async () => {
      await store.registrations.upsert(binding({ contact: 'sip:a@192.0.2.1', qMilli: 100 }));
      await store.registrations.upsert(binding({ contact: 'sip:b@192.0.2.2', qMilli: 900 }));
      await store.registrations.upsert(binding({ contact: 'sip:c@192.0.2.3' }));
      assert.deepEqual((await store.registrations.list()).map((b) => b.contact), ['sip:c@192.0.2.3', 'sip:b@192.0.2.2', 'sip:a@192.0.2.1']);
    });

    it('MUST remove one binding, or all of an AOR (Contact: *), and expire old ones', async () => {
      await store.registrations.upsert(binding({ contact: 'sip:a@192.0.2.1', expiresAt: T0 + 10 }));
      await store.registrations.upsert(binding({ contact: 'sip:b@192.0.2.2', expiresAt: T0 + 20 }));
      await store.registrations.upsert(binding({ aor: 'sip:bob@ciphergate.local', user: 'bob', contact: 'sip:bob@192.0.2.3', expiresAt: T0 + 30 }));
      assert.equal(await store.registrations.remove('sip:alice@ciphergate.local', 'sip:a@192.0.2.1'), true);
      assert.equal(await store.registrations.remove('sip:alice@ciphergate.local', 'sip:a@192.0.2.1'), false);
      assert.equal(await store.registrations.expire(T0 + 20), 1, 'expiresAt <= now expires');
      assert.equal(await store.registrations.removeAll('sip:bob@ciphergate.local'), 1);
      assert.deepEqual(await store.registrations.list(), []);
    });

    it('MUST refuse a binding for an unknown user', async () => {
      await assert.rejects(store.registrations.upsert(binding({ user: 'mallory' })), StoreNotFoundError);
    });

    it('MUST drop the bindings of a removed user', async () => {
      await store.registrations.upsert(binding());
      await store.users.remove('alice');
      assert.deepEqual(await store.registrations.list(), []);
    });
  });

  describe('RFC 5626 §6 flow bindings (+sip.instance, reg-id)', () => {
    const instance = '"<urn:uuid:00000000-0000-1000-8000-000a95a0e128>"';

    it('MUST replace the binding of the same instance and reg-id even when the Contact changed', async () => {
      await store.registrations.upsert(binding({ contact: 'sip:alice@192.0.2.10:50000', instanceId: instance, regId: 1 }));
      await store.registrations.upsert(binding({ contact: 'sip:alice@192.0.2.11:50001', instanceId: instance, regId: 1, flowId: 'tls-2' }));
      const list = await store.registrations.list('sip:alice@ciphergate.local');
      assert.deepEqual(list.map((b) => [b.contact, b.flowId]), [['sip:alice@192.0.2.11:50001', 'tls-2']]);
    });

    it('MUST keep both flows of one instance with different reg-ids', async () => {
      await store.registrations.upsert(binding({ contact: 'sip:alice@192.0.2.10:50000', instanceId: instance, regId: 1 }));
      await store.registrations.upsert(binding({ contact: 'sip:alice@192.0.2.10:50002', instanceId: instance, regId: 2 }));
      assert.equal((await store.registrations.list()).length, 2);
    });

    it('MUST refuse an instance without reg-id (both or neither)', async () => {
      await assert.rejects(store.registrations.upsert(binding({ instanceId: instance })), /together or neither/);
    });
  });

  describe('certificate bindings', () => {
    it('MUST map a fingerprint to exactly one user', async () => {
      await store.certs.bind({ user: 'alice', fingerprint: FP_A, createdAt: T0 });
      await store.certs.bind({ user: 'alice', fingerprint: FP_A, createdAt: T0 }); // idempotent
      assert.equal(await store.certs.userFor(FP_A), 'alice');
      await assert.rejects(store.certs.bind({ user: 'bob', fingerprint: FP_A, createdAt: T0 }), StoreConflictError);
      assert.deepEqual((await store.certs.listFor('alice')).map((c) => c.fingerprint), [FP_A]);
      assert.equal(await store.certs.unbind('alice', FP_A), true);
      assert.equal(await store.certs.userFor(FP_A), undefined);
    });
  });

  describe('admin tokens', () => {
    it('MUST find a token by its verifier only, and forget it on remove', async () => {
      const mac = randomBytes(32);
      await store.adminTokens.create({ id: 't1', mac, label: 'ops', createdAt: T0 });
      await assert.rejects(store.adminTokens.create({ id: 't1', mac: randomBytes(32), label: 'x', createdAt: T0 }), StoreConflictError);
      assert.equal((await store.adminTokens.findByMac(mac))?.id, 't1');
      assert.equal(await store.adminTokens.findByMac(randomBytes(32)), undefined);
      await store.adminTokens.touch('t1', T0 + 5);
      assert.equal((await store.adminTokens.list())[0]?.lastUsedAt, T0 + 5);
      assert.equal(await store.adminTokens.remove('t1'), true);
      assert.equal(await store.adminTokens.findByMac(mac), undefined);
    });
  });
});
