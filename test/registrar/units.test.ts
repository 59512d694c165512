/**
 * The registrar's pure parts: URI equality (RFC 3261 §19.1.4, with the RFC's own examples),
 * Contact reading (§10.2, §20.10, RFC 5626 §4), the §10.3 step 6–7 planner, write-behind
 * coalescing.
 */
import assert from 'node:assert/strict';
import { nullLogger } from '../../gateway/log/logger';
import {
  canonicalContact, DomainMatcher, parseDeltaSeconds, parseQValue, planRegistration, readContacts, uriEquals,
  type Binding, type RegisterContext,
} from '../../gateway/registrar';
import { BindingWriter, worthWriting } from '../../gateway/registrar/persistence';
import { parseUri } from '../../gateway/sip/message/grammar';
import { parseMessage } from '../../gateway/sip/message/parser';
import type { SipRequest } from '../../gateway/sip/message/message';
import type { SipUri } from '../../gateway/sip/message/types';
import type { RegistrationBinding, RegistrationStore } from '../../gateway/store/types';

function register(contacts: string[], extra: string[] = []): SipRequest {
  const text = [
    'REGISTER sip:ciphergate.test SIP/2.0', 'Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK1', 'Max-Forwards: 70',
    'From: <sip:alice@ciphergate.test>;tag=1', 'To: <sip:alice@ciphergate.test>', 'Call-ID: c1', 'CSeq: 5 REGISTER',
    ...contacts.map((c) => `Contact: ${c}`), ...extra, 'Content-Length: 0', '', '',
  ].join('\r\n');
  return parseMessage(Buffer.from(text), { stream: true }) as SipRequest;
}

describe('Registrar units', () => {
  describe('RFC 3261 §19.1.4 URI equality (the RFC examples)', () => {
    const eq = (a: string, b: string): boolean => uriEquals(parseUri(a), parseUri(b));
    it('treats these as equal', () => {
      assert.ok(eq('sip:%61lice@atlanta.com;transport=TCP', 'sip:alice@AtLanTa.CoM;Transport=tcp'));
      assert.ok(eq('sip:carol@chicago.com', 'sip:carol@chicago.com;newparam=5'));
      assert.ok(eq('sip:carol@chicago.com;security=on', 'sip:carol@chicago.com;newparam=5'));
      assert.ok(eq('sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com',
        'sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com'));
    });
    it('treats these as different', () => {
      assert.ok(!eq('SIP:ALICE@AtLanTa.CoM;Transport=udp', 'sip:alice@AtLanTa.CoM;Transport=UDP'));
      assert.ok(!eq('sip:bob@biloxi.com', 'sip:bob@biloxi.com:5060'));
      assert.ok(!eq('sip:bob@biloxi.com', 'sip:bob@biloxi.com;transport=udp;maddr=1.2.3.4'));
      assert.ok(!eq('sip:carol@chicago.com', 'sip:carol@chicago.com;user=phone'));
      assert.ok(!eq('sip:alice@atlanta.com', 'sips:alice@atlanta.com'));
      assert.ok(!eq('sip:a@h?subject=x', 'sip:a@h'));
    });
    it('stores one canonical Contact text per host case and parameter order', () => {
      const a = canonicalContact(parseUri('sip:alice@EXAMPLE.com:5061;transport=tls;ob') as SipUri);
      const b = canonicalContact(parseUri('sip:alice@example.COM:5061;ob;transport=tls') as SipUri);
      assert.equal(a, b);
      assert.equal(a, 'sip:alice@example.com:5061;ob;transport=tls');
    });
    it('knows our domain, our listen addresses and the address a request reached', () => {
      const d = new DomainMatcher('Ciphergate.Test', ['0.0.0.0', '2001:db8::1']);
      assert.ok(d.isOurs('ciphergate.test', '10.0.0.1'));
      assert.ok(d.isOurs('[2001:DB8:0::1]', '10.0.0.1'));
      assert.ok(d.isOurs('10.0.0.1', '10.0.0.1'));
      assert.ok(!d.isOurs('0.0.0.0', '10.0.0.1'));
      assert.ok(!d.isOurs('example.org', '10.0.0.1'));
    });
  });

  describe('Contact reading (RFC 3261 §10.2, §20.10; RFC 5626 §4)', () => {
    it('reads delta-seconds and q-values by hand, refusing anything else', () => {
      assert.equal(parseDeltaSeconds(' 3600 '), 3600);
      assert.equal(parseDeltaSeconds('00000000000000060'), 60);
      assert.equal(parseDeltaSeconds('99999999999999999999'), 0xffffffff);
      assert.equal(parseDeltaSeconds('-1'), undefined);
      assert.equal(parseDeltaSeconds('1e3'), undefined);
      assert.deepEqual(['0', '0.5', '0.125', '1', '1.000'].map(parseQValue), [0, 500, 125, 1000, 1000]);
      assert.deepEqual(['1.5', '0.1234', '2', '.5', ''].map(parseQValue), [undefined, undefined, undefined, undefined, undefined]);
    });
    it('takes expiry from the Contact parameter, else the Expires header, else the default', () => {
      const r = readContacts(register(['<sip:a@192.0.2.1>;expires=120', '<sip:a@192.0.2.2>'], ['Expires: 300']), 3600);
      assert.equal(r.kind, 'contacts');
      if (r.kind === 'contacts') assert.deepEqual(r.contacts.map((c) => c.expires), [120, 300]);
      const d = readContacts(register(['<sip:a@192.0.2.1>']), 1800);
      if (d.kind === 'contacts') assert.equal(d.contacts[0].expires, 1800);
    });
    it('reads +sip.instance and reg-id together, and refuses malformed ones with a 400 reason', () => {
      const r = readContacts(register(['<sip:a@192.0.2.1;ob>;+sip.instance="<urn:uuid:1>";reg-id=2']), 3600);
      assert.ok(r.kind === 'contacts' && r.contacts[0].instanceId === '<urn:uuid:1>' && r.contacts[0].regId === 2);
      const lone = readContacts(register(['<sip:a@192.0.2.1>;reg-id=2']), 3600);
      assert.ok(lone.kind === 'contacts' && lone.contacts[0].regId === undefined);
      assert.equal(readContacts(register(['<sip:a@192.0.2.1>;+sip.instance="<urn:uuid:1>";reg-id=0']), 3600).kind, 'invalid');
      assert.equal(readContacts(register(['<sip:a@192.0.2.1>;q=2']), 3600).kind, 'invalid');
      assert.equal(readContacts(register(['<mailto:a@example.org>']), 3600).kind, 'invalid');
    });
    it('counts a Contact repeated in one request once', () => {
      const r = readContacts(register(['<sip:a@192.0.2.1>;expires=100', '<sip:a@192.0.2.1>;expires=200']), 3600);
      assert.ok(r.kind === 'contacts' && r.contacts.length === 1 && r.contacts[0].expires === 200);
    });
  });

  describe('§10.3 steps 6–7 planner', () => {
    const NOW = 1_700_000_000_000;
    const ctx = (over: Partial<RegisterContext> = {}): RegisterContext => ({
      aor: 'sip:alice@ciphergate.test', user: 'alice', callId: 'c1', cseq: 5, now: NOW,
      limits: { minExpires: 60, maxExpires: 3600, defaultExpires: 3600, maxContacts: 2 }, outbound: true,
      transport: 'TLS', remoteAddress: '192.0.2.1', remotePort: 40000, localAddress: '192.0.2.100', localPort: 5061, flowId: 'f1', ...over,
    });
    const binding = (contact: string, over: Partial<Binding> = {}): Binding => ({
      aor: 'sip:alice@ciphergate.test', contact, uri: parseUri(contact) as SipUri, user: 'alice', callId: 'c0', cseq: 1,
      expiresAt: NOW + 60_000, transport: 'TLS', remoteAddress: '192.0.2.1', remotePort: 1, path: [], registeredAt: NOW - 5000,
      updatedAt: NOW - 5000, reachable: true, ...over,
    });
    const contacts = (...cs: string[]) => {
      const r = readContacts(register(cs), 3600);
      assert.equal(r.kind, 'contacts');
      return r as Extract<typeof r, { kind: 'contacts' }>;
    };

    it('wildcard: removes every binding, but fails the whole request on an out-of-order CSeq', () => {
      const existing = [binding('sip:alice@192.0.2.1'), binding('sip:alice@192.0.2.2', { callId: 'c1', cseq: 9 })];
      const bad = planRegistration(existing, { kind: 'wildcard', expires: 0 }, ctx());
      assert.equal(bad.kind === 'reject' && bad.status, 500);
      const ok = planRegistration(existing, { kind: 'wildcard', expires: 0 }, ctx({ cseq: 10 }));
      assert.ok(ok.kind === 'apply' && ok.removals.length === 2 && ok.upserts.length === 0);
      const noZero = planRegistration(existing, { kind: 'wildcard', expires: undefined }, ctx({ cseq: 10 }));
      assert.equal(noZero.kind === 'reject' && noZero.status, 400);
    });

    it('refreshes keep registeredAt and take a new expiry, capped at maxExpires', () => {
      const prev = binding('sip:alice@192.0.2.1');
      const plan = planRegistration([prev], contacts('<sip:alice@192.0.2.1>;expires=99999'), ctx());
      assert.ok(plan.kind === 'apply');
      if (plan.kind !== 'apply') return;
      assert.equal(plan.upserts[0].binding.registeredAt, prev.registeredAt);
      assert.equal(plan.upserts[0].binding.expiresAt, NOW + 3_600_000);
      assert.equal(plan.upserts[0].previous, prev);
    });

    it('RFC 5626 §6: a Contact with the same instance and reg-id replaces the other one', () => {
      const old = binding('sip:alice@192.0.2.1:1111', { instanceId: '<urn:uuid:1>', regId: 1 });
      const plan = planRegistration([old], contacts('<sip:alice@192.0.2.1:2222>;+sip.instance="<urn:uuid:1>";reg-id=1'), ctx());
      assert.ok(plan.kind === 'apply' && plan.removals[0].binding === old && plan.removals[0].reason === 'replaced');
      const ignored = planRegistration([old], contacts('<sip:alice@192.0.2.1:2222>;+sip.instance="<urn:uuid:1>";reg-id=1'), ctx({ outbound: false }));
      assert.ok(ignored.kind === 'apply' && ignored.removals.length === 0 && ignored.upserts[0].binding.regId === undefined);
    });

    it('makes room by evicting unreachable bindings, oldest first, never reachable ones', () => {
      const dead1 = binding('sip:alice@192.0.2.1', { reachable: false, updatedAt: NOW - 9000 });
      const dead2 = binding('sip:alice@192.0.2.2', { reachable: false, updatedAt: NOW - 1000 });
      const plan = planRegistration([dead1, dead2], contacts('<sip:alice@192.0.2.3>'), ctx());
      assert.ok(plan.kind === 'apply' && plan.removals.length === 1 && plan.removals[0].binding === dead1);
      const live = [binding('sip:alice@192.0.2.1'), binding('sip:alice@192.0.2.2')];
      const full = planRegistration(live, contacts('<sip:alice@192.0.2.3>'), ctx());
      assert.equal(full.kind === 'reject' && full.status, 403);
    });

    it('423 only for a non-zero interval below the minimum; expires=0 removes', () => {
      const brief = planRegistration([], contacts('<sip:alice@192.0.2.1>;expires=59'), ctx());
      assert.ok(brief.kind === 'reject' && brief.status === 423 && brief.headers[0][1] === '60');
      const prev = binding('sip:alice@192.0.2.1');
      const zero = planRegistration([prev], contacts('<sip:alice@192.0.2.1>;expires=0'), ctx());
      assert.ok(zero.kind === 'apply' && zero.removals[0].binding === prev && zero.upserts.length === 0);
    });
  });

  describe('write-behind (persistence.ts)', () => {
    it('coalesces changes of one binding into its latest state and drains on flush', async () => {
      const writes: string[] = [];
      const store = {
        async upsert(b: RegistrationBinding) { writes.push(`upsert ${b.contact} ${b.cseq}`); },
        async remove(_aor: string, contact: string) { writes.push(`remove ${contact}`); return true; },
      } as unknown as RegistrationStore;
      const w = new BindingWriter(store, nullLogger);
      const b = { aor: 'a', contact: 'sip:x@192.0.2.1', user: 'alice', callId: 'c', cseq: 1, expiresAt: 1, transport: 'TLS' as const,
        remoteAddress: '192.0.2.1', remotePort: 1, path: [], registeredAt: 1, updatedAt: 1 };
      for (let i = 1; i <= 50; i++) w.upsert({ ...b, cseq: i });
      w.upsert({ ...b, contact: 'sip:y@192.0.2.2' });
      w.remove('a', 'sip:y@192.0.2.2');
      await w.flush();
      assert.deepEqual(writes, ['upsert sip:x@192.0.2.1 50', 'remove sip:y@192.0.2.2']);
      assert.equal(w.pending, 0);
    });

    it('writes a refresh only when something but the expiry changed, or the stored expiry lags by a quarter of its life', () => {
      const NOW = 1_000_000_000;
      const prev = { flowId: 'f', transport: 'TLS', remoteAddress: 'r', remotePort: 1, user: 'alice', reachable: true, expiresAt: NOW + 3_600_000 } as Binding;
      assert.equal(worthWriting({ ...prev, expiresAt: NOW + 3_600_000 + 5000 }, prev, prev.expiresAt, NOW + 5000), false);
      assert.equal(worthWriting({ ...prev, flowId: 'g' }, prev, prev.expiresAt, NOW), true);
      // A UA refreshing at half-life (3600 s granted, refresh after 1800 s) is written every time.
      assert.equal(worthWriting({ ...prev, expiresAt: NOW + 5_400_000 }, prev, prev.expiresAt, NOW + 1_800_000), true);
      // One re-registering every 10 s is written once the stored expiry lags by a quarter of its life.
      assert.equal(worthWriting({ ...prev, expiresAt: NOW + 3_610_000 }, prev, prev.expiresAt, NOW + 10_000), false);
      assert.equal(worthWriting({ ...prev, expiresAt: NOW + 4_510_000 }, prev, prev.expiresAt, NOW + 910_000), true);
      assert.equal(worthWriting({ ...prev, expiresAt: NOW + 3_600_000 }, { ...prev, reachable: false }, prev.expiresAt, NOW), true);
    });
  });
});
