/**
 * Bindings and their flows (RFC 5626 §5.2, §5.3, §6): a closed connection makes its bindings
 * unreachable, a restart reloads bindings unreachable until the UA registers again, blocking a
 * user closes its connections, and outbound (instance + reg-id) replaces the old flow's binding.
 */
import assert from 'node:assert/strict';
import type { Binding } from '../../gateway/registrar';
import { openHarness, PASSWORDS, waitFor, type Harness } from './harness';
import { contactsOf, SipTestClient, TestUa } from './sip-client';

const AOR = 'sip:alice@ciphergate.test';

describe('Registrar: flows (RFC 5626)', function () {
  this.timeout(20_000);
  let h: Harness | undefined;
  const clients: SipTestClient[] = [];

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await h?.close();
    h = undefined;
  });

  async function ua(harness: Harness, user = 'alice'): Promise<TestUa> {
    const c = await SipTestClient.connect('TLS', harness.ports.TLS, { ca: harness.ca });
    clients.push(c);
    return new TestUa(c, user, PASSWORDS[user], '127.0.0.1', harness.ports.TLS);
  }

  it('§5.3: when the connection closes, its bindings become unreachable (kept, flagged, event emitted)', async () => {
    h = await openHarness();
    const a = await ua(h);
    assert.equal((await a.register({ contacts: [a.contact()] })).status, 200);
    const events: Binding[] = [];
    h.registrar.on('unreachable', (b) => events.push(b));
    a.client.close();
    await waitFor('unreachable event', () => events.length === 1);
    const [b] = h.registrar.locate(AOR);
    assert.equal(b.reachable, false);
    assert.equal(h.transport.isFlowAlive(b.flowId ?? ''), false);
    assert.equal(events[0].contact, b.contact);
  });

  it('re-registering from a new connection makes the binding reachable again, over the new flow', async () => {
    h = await openHarness();
    const a = await ua(h);
    const contact = '<sip:alice@192.0.2.7:5061;transport=tls>';
    await a.register({ contacts: [contact] });
    const firstFlow = h.registrar.locate(AOR)[0].flowId;
    a.client.close();
    await waitFor('unreachable', () => h?.registrar.locate(AOR)[0].reachable === false);
    const b = await ua(h);
    assert.equal((await b.register({ contacts: [contact] })).status, 200);
    const [binding] = h.registrar.locate(AOR);
    assert.equal(binding.reachable, true);
    assert.notEqual(binding.flowId, firstFlow);
  });

  it('evicts unreachable bindings first when the AOR is full', async () => {
    h = await openHarness({ limits: { maxContacts: 1 } });
    const a = await ua(h);
    await a.register({ contacts: [a.contact()] });
    a.client.close();
    await waitFor('unreachable', () => h?.registrar.locate(AOR)[0]?.reachable === false);
    const b = await ua(h);
    const res = await b.register({ contacts: [b.contact()] });
    assert.equal(res.status, 200, res.reason);
    assert.deepEqual(contactsOf(res).length, 1);
    assert.equal(h.registrar.locate(AOR)[0].reachable, true);
  });

  it('reloads bindings after a restart, unreachable until the UA registers again', async () => {
    h = await openHarness();
    const a = await ua(h);
    await a.register({ contacts: [a.contact(';expires=600'), '<sip:alice@192.0.2.9:5061;transport=tls>;q=0.3'] });
    const dataDir = h.dataDir;
    await h.close({ keepData: true });
    h = await openHarness({ dataDir });
    const located = h.registrar.locate(AOR);
    assert.equal(located.length, 2);
    assert.ok(located.every((b) => !b.reachable));
    assert.equal(located.find((b) => b.contact.includes('192.0.2.9'))?.qMilli, 300);
    const b = await ua(h);
    assert.equal((await b.register({ contacts: [b.contact()] })).status, 200);
    assert.equal(h.registrar.locate(AOR).filter((x) => x.reachable).length, 1);
  });

  it('blockUser removes the bindings, closes the TLS connection within 1 s and emits userBlocked; the next REGISTER gets 403', async () => {
    h = await openHarness();
    const a = await ua(h);
    const bob = await ua(h, 'bob');
    await a.register({ contacts: [a.contact()] });
    await bob.register({ contacts: [bob.contact()] });
    const blocked: string[] = [];
    h.registrar.onUserBlocked((name) => blocked.push(name));
    const t0 = Date.now();
    await h.users.block('alice');
    await h.registrar.blockUser('alice');
    await Promise.race([a.client.closed, new Promise((_, reject) => setTimeout(() => reject(new Error('not closed in 1 s')), 1000))]);
    assert.ok(Date.now() - t0 < 1000);
    assert.deepEqual(blocked, ['alice']);
    assert.equal(h.registrar.locate(AOR).length, 0);
    assert.equal((await h.store.registrations.list(AOR)).length, 0);
    assert.equal(bob.client.isClosed, false, "another user's connection stays up");
    const again = await ua(h);
    assert.equal((await again.register({ contacts: [again.contact()] })).status, 403);
  });

  it('§6: with +sip.instance, reg-id and Supported: outbound, answers Require: outbound and Flow-Timer', async () => {
    h = await openHarness();
    const a = await ua(h);
    const inst = ';+sip.instance="<urn:uuid:00000000-0000-4000-8000-000000000001>";reg-id=1';
    const res = await a.register({ contacts: [a.contact(inst)], headers: ['Supported: outbound, path'] });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('Require'), 'outbound');
    assert.equal(res.headers.get('Flow-Timer'), '60');
    assert.match(contactsOf(res)[0], /\+sip\.instance="<urn:uuid:00000000-0000-4000-8000-000000000001>";reg-id=1/);
    const [b] = h.registrar.locate(AOR);
    assert.equal(b.regId, 1);
  });

  it('§6 step 3: the same instance and reg-id from a new flow replace the old binding, even with a new Contact', async () => {
    h = await openHarness();
    const inst = ';+sip.instance="<urn:uuid:00000000-0000-4000-8000-000000000002>";reg-id=1';
    const a = await ua(h);
    await a.register({ contacts: [a.contact(inst)], headers: ['Supported: outbound'] });
    const b = await ua(h);
    // RFC 5626 §4.2: the UA keeps its Call-ID for the reg-id; CSeq goes on increasing.
    Object.assign(b, { callId: a.callId });
    b.cseq = a.cseq;
    const res = await b.register({ contacts: [b.contact(inst)], headers: ['Supported: outbound'] });
    assert.equal(res.status, 200, res.reason);
    const located = h.registrar.locate(AOR);
    assert.equal(located.length, 1);
    assert.ok(located[0].contact.includes(`:${b.client.localPort};`));
  });

  it('§6: 439 when reg-id comes through a proxy that added no Path', async () => {
    h = await openHarness();
    const a = await ua(h);
    const inst = ';+sip.instance="<urn:uuid:00000000-0000-4000-8000-000000000003>";reg-id=1';
    const res = await a.register({
      contacts: [a.contact(inst)],
      headers: ['Supported: outbound', 'Via: SIP/2.0/TLS 192.0.2.50:5061;branch=z9hG4bKproxy1'],
    });
    assert.equal(res.status, 439);
  });

  it('UDP bindings (requireTls off) are reached at their source address from the socket they reached', async () => {
    h = await openHarness({ requireTls: false });
    const c = await SipTestClient.connect('UDP', h.ports.UDP);
    clients.push(c);
    const a = new TestUa(c, 'alice', PASSWORDS.alice, '127.0.0.1', h.ports.UDP);
    assert.equal((await a.register({ contacts: [a.contact()] })).status, 200);
    const [b] = h.registrar.locate(AOR);
    assert.deepEqual(h.registrar.targetFor(b), {
      protocol: 'UDP', remote: { address: '127.0.0.1', port: c.localPort }, local: { address: '127.0.0.1', port: h.ports.UDP },
    });
    assert.equal(b.reachable, true);
  });
});
