/**
 * The parts of messaging on their own: the sealed envelope (AES-256-GCM, AAD = id + recipient),
 * the mailbox rules (who a message waits for, when it is settled), device outcomes, content.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  classify, decodeEnvelope, deviceKey, devicesOf, encodeEnvelope, EnvelopeFormatError, EnvelopeSealer, isSettled, Mailboxes, outcomeOf,
  type StoredMessageMeta,
} from '../../gateway/messaging';
import type { Binding } from '../../gateway/registrar';
import { parseUri } from '../../gateway/sip/message/grammar';
import type { SipUri } from '../../gateway/sip/message/types';
import { MasterKey, SealedValueError } from '../../gateway/store';

const ENVELOPE = { sender: 'alice', senderDisplay: 'Alice ✓', target: 'sip:team@example.test', contentType: 'text/plain;charset=utf-8', body: Buffer.from('hi ✓') };

function meta(seq: number, recipient = 'bob', devices: Array<[string, boolean, 'pending' | 'delivered' | 'refused']> = []): StoredMessageMeta {
  return {
    seq, id: `id${seq}`, recipient, size: 10, createdAt: 0, expiresAt: 1000,
    devices: new Map(devices.map(([k, required, state]) => [k, { required, state }])),
  };
}

describe('Messaging units', () => {
  describe('envelope (AES-256-GCM, NIST SP 800-38D)', () => {
    const key = MasterKey.fromBytes(randomBytes(32));
    const sealer = new EnvelopeSealer(key);
    after(() => {
      sealer.dispose();
      key.dispose();
    });

    it('round-trips every field, UTF-8 included', () => {
      assert.deepEqual(decodeEnvelope(encodeEnvelope(ENVELOPE)), ENVELOPE);
      const sealed = sealer.seal('m1', 'bob', ENVELOPE);
      assert.deepEqual(sealer.open('m1', 'bob', sealed), ENVELOPE);
    });

    it('MUST NOT open for another message id or another recipient (AAD binding)', () => {
      const sealed = sealer.seal('m1', 'bob', ENVELOPE);
      assert.throws(() => sealer.open('m2', 'bob', sealed), SealedValueError);
      assert.throws(() => sealer.open('m1', 'carol', sealed), SealedValueError);
    });

    it('MUST NOT open a modified ciphertext, or under another master key', () => {
      const sealed = sealer.seal('m1', 'bob', ENVELOPE);
      const flipped = Buffer.from(sealed);
      flipped[20] ^= 1;
      assert.throws(() => sealer.open('m1', 'bob', flipped), SealedValueError);
      const other = MasterKey.fromBytes(randomBytes(32));
      const otherSealer = new EnvelopeSealer(other);
      assert.throws(() => otherSealer.open('m1', 'bob', sealed), SealedValueError);
      otherSealer.dispose();
      other.dispose();
    });

    it('uses a fresh IV per message (same plaintext, different ciphertext)', () => {
      assert.notDeepEqual(sealer.seal('m1', 'bob', ENVELOPE), sealer.seal('m1', 'bob', ENVELOPE));
    });

    it('refuses an unknown format or a truncated envelope', () => {
      assert.throws(() => decodeEnvelope(Buffer.from([2, 0, 0])), EnvelopeFormatError);
      assert.throws(() => decodeEnvelope(encodeEnvelope(ENVELOPE).subarray(0, 6)), EnvelopeFormatError);
    });
  });

  describe('mailbox rules', () => {
    it('a message is settled once every required device answered and at least one did', () => {
      assert.equal(isSettled(meta(1)), false, 'nobody answered yet');
      assert.equal(isSettled(meta(1, 'bob', [['a', true, 'delivered'], ['b', true, 'pending']])), false);
      assert.equal(isSettled(meta(1, 'bob', [['a', true, 'delivered'], ['b', true, 'refused']])), true);
      assert.equal(isSettled(meta(1, 'bob', [['a', true, 'delivered'], ['b', false, 'pending']])), true, 'released devices do not hold it');
    });

    it('delivers in seq order to a device that has not answered, skipping expired ones', () => {
      const mb = new Mailboxes();
      mb.add(meta(3, 'bob', [['a', true, 'delivered']]));
      mb.add(meta(1));
      mb.add({ ...meta(2), expiresAt: 5 });
      assert.equal(mb.nextFor('bob', 'a', 0, 10)?.seq, 1);
      assert.equal(mb.nextFor('bob', 'a', 1, 10), undefined, 'seq 2 expired, seq 3 already delivered to a');
      assert.equal(mb.nextFor('bob', 'b', 1, 10)?.seq, 3);
      assert.equal(mb.countOf('bob'), 3);
      assert.equal(mb.bytesOf('bob'), 30);
      mb.remove(1);
      assert.equal(mb.countOf('bob'), 2);
      assert.equal(mb.totalBytes, 20);
    });

    it('requires the devices registered at first delivery when none was at arrival, and releases gone ones', () => {
      const mb = new Mailboxes();
      mb.add(meta(1));
      mb.add(meta(2, 'bob', [['a', true, 'pending']]));
      const changed = mb.requireDevices('bob', ['a', 'b']);
      assert.deepEqual(changed.map(([m, k]) => `${m.seq}:${k}`), ['1:a', '1:b']);
      const released = mb.releaseDevice('bob', 'b');
      assert.deepEqual(released.changed.map(([m]) => m.seq), [1]);
      assert.deepEqual(released.settled, []);
      mb.get(1)!.devices.get('a')!.state = 'delivered';
      assert.equal(isSettled(mb.get(1)!), true);
    });
  });

  describe('devices (RFC 5626 instances, RFC 3261 §21 outcomes)', () => {
    const binding = (contact: string, reachable: boolean, instanceId?: string): Binding => ({
      aor: 'sip:bob@x', contact, user: 'bob', callId: 'c', cseq: 1, expiresAt: 1, transport: 'TLS', remoteAddress: '127.0.0.1',
      remotePort: 1, path: [], registeredAt: 0, updatedAt: 0, uri: parseUri(contact) as SipUri, reachable,
      ...(instanceId !== undefined && { instanceId, regId: 1 }),
    });

    it('names a device by its instance, else its Contact; picks a reachable binding', () => {
      const a = binding('sip:bob@127.0.0.1:1', false, '<urn:uuid:1>');
      const b = binding('sip:bob@127.0.0.1:2', true, '<urn:uuid:1>');
      const c = binding('sip:bob@127.0.0.1:3', true);
      assert.equal(deviceKey(a), 'instance:<urn:uuid:1>');
      assert.equal(deviceKey(c), 'contact:sip:bob@127.0.0.1:3');
      const devices = devicesOf([a, b, c]);
      assert.equal(devices.length, 2);
      assert.equal(devices[0]!.binding, b);
    });

    it('2xx delivered; 408/430/480/486/5xx retried; other finals refused', () => {
      assert.equal(outcomeOf(200), 'delivered');
      assert.equal(outcomeOf(202), 'delivered');
      for (const s of [408, 430, 480, 486, 500, 503]) assert.equal(outcomeOf(s), 'retry', String(s));
      for (const s of [403, 404, 415, 488, 603]) assert.equal(outcomeOf(s), 'refused', String(s));
    });
  });

  describe('content (RFC 3428 §9)', () => {
    it('stores text/plain and message/cpim, passes isComposing, refuses the rest', () => {
      assert.equal(classify('text/plain; charset=UTF-8'), 'message');
      assert.equal(classify('Message/CPIM'), 'message');
      assert.equal(classify('application/im-iscomposing+xml'), 'transient');
      assert.equal(classify('message/imdn+xml'), undefined);
      assert.equal(classify(undefined), undefined);
    });
  });
});
