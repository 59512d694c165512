/**
 * The on-net calls lab shared by calls-onnet and calls-g722: an in-process gateway with users alice
 * and bob, baresip phones registered over TLS with SRTP, and a tone call between them. Registers its
 * mocha hooks (before / afterEach / after) in the describe block that calls onNetLab().
 */
import assert from 'node:assert/strict';
import { startTestGateway, type TestGateway } from '../helpers/in-process-gateway';
import { Phone, registeredPhone, settledFile, toneOf } from './calls-harness';

export const ON_NET_PASSWORDS = { alice: 'Wonderland-Key-81', bob: 'Builder-Tool-Box-22' } as const;
export type OnNetUser = keyof typeof ON_NET_PASSWORDS;

export interface Heard {
  readonly frequency: number;
  readonly rms: number;
}

export interface OnNetLab {
  /** The running gateway (after `before`). */
  gateway(): TestGateway;
  /** A registered phone of `name` sending a `tone` Hz sine, with baresip's `codecs` list. */
  phone(name: OnNetUser, tone: number, o: { codecs: string; mediaenc?: string; answer?: 'auto' | 'manual' }): Promise<Phone>;
  /**
   * alice dials bob, both answer over SRTP, 3.5 s of tones, alice hangs up (`during` runs while the
   * call is up); returns what each one heard.
   */
  toneCall(alice: Phone, bob: Phone, during?: () => void): Promise<{ atAlice: Heard; atBob: Heard }>;
}

export function onNetLab(): OnNetLab {
  let t: TestGateway | undefined;
  const phones: Phone[] = [];
  const base = 42000 + Math.floor(Math.random() * 20) * 400;
  // Phones take 20 RTP ports each from `base` up; the gateway's media range sits above them (it
  // keeps a reserve of bound streams, media.warmStreams, so the two must never overlap).
  const mediaMin = base + 260;
  let phoneBase = base;

  before(async () => {
    t = await startTestGateway([
      'sip.domain=127.0.0.1', 'media.address=127.0.0.1', 'media.workers=1',
      `media.portMin=${mediaMin}`, `media.portMax=${base + 399}`,
    ]);
    await t.gw.users.add('alice', { password: ON_NET_PASSWORDS.alice, number: '+34911000001' });
    await t.gw.users.add('bob', { password: ON_NET_PASSWORDS.bob, number: '+34911000002' });
  });
  afterEach(async () => {
    for (const p of phones.splice(0)) await p.stop();
  });
  after(async () => {
    await t?.stop();
  });

  const gateway = (): TestGateway => {
    if (t === undefined) throw new Error('the on-net lab gateway is not started');
    return t;
  };

  return {
    gateway,
    phone: async (name, tone, o) => {
      if (phoneBase + 19 >= mediaMin) throw new Error('phone RTP ports would overlap the gateway media range: raise mediaMin');
      const rtp = `${phoneBase}-${phoneBase + 19}`;
      phoneBase += 20;
      const p = await registeredPhone(gateway(), {
        user: name, password: ON_NET_PASSWORDS[name], tone, rtpPorts: rtp, mediaenc: o.mediaenc ?? 'srtp-mand', codecs: o.codecs,
        ...(o.answer !== undefined && { answer: o.answer }),
      });
      phones.push(p);
      return p;
    },
    toneCall: async (alice, bob, during = () => undefined) => {
      alice.command('dial', 'sip:bob@127.0.0.1');
      await alice.waitEvent('CALL_ESTABLISHED', 10_000);
      await bob.waitEvent('CALL_ESTABLISHED', 5000);
      const menc = await alice.waitEvent('CALL_MENC', 5000);
      assert.match(menc.param ?? '', /AES_CM_128_HMAC_SHA1_80|AES/i);
      await new Promise((r) => setTimeout(r, 3500));
      during();
      alice.command('hangup');
      await bob.waitEvent('CALL_CLOSED', 5000);
      const atBob = await toneOf(await settledFile(() => bob.received(), 5000));
      const atAlice = await toneOf(await settledFile(() => alice.received(), 5000));
      return { atAlice, atBob };
    },
  };
}
