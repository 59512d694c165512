/**
 * RFC 4475 end to end: each torture message is sent to the running gateway over UDP and the answer
 * (or the silence) is checked against the verdict in ../shared/conformance/rfc4475/README.md.
 * The parser-level verdicts are in rfc4475.test.ts; this file checks what goes back on the wire.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { loadCorpus, type TortureMessage } from './corpus';
import { startTestGateway, type TestGateway } from '../helpers/in-process-gateway';

/** The status the gateway must answer with; null = no answer (dropped). Choices for "see RFC" rows are noted. */
function expectedStatus(m: TortureMessage): { status: number | null; not400?: boolean; header?: string } {
  const e = m.expected;
  if (e === 'drop') return { status: null };
  if (e.startsWith('400')) return { status: 400 };
  if (e === '505') return { status: 505 };
  if (e === '416') return { status: 416 };
  if (e.startsWith('420')) return { status: 420, header: 'Unsupported' };
  if (e.startsWith('415')) return { status: 415, header: 'Accept' };
  if (e.startsWith('401')) return { status: 401, header: 'WWW-Authenticate' };
  if (e.startsWith('406')) return { status: 406 };
  switch (m.name) {
    case 'intmeth': return { status: 501 }; // unknown method (§8.2.1)
    case 'unreason': case 'noreason': return { status: null }; // responses matching no transaction: dropped
    case 'baddate': return { status: null, not400: true }; // Date is not inspected: the request is answered normally
    case 'regbadct': return { status: 400 }; // §3.1.2.13: we take the strict reading (400) over guessing
    case 'novelsc': return { status: 416 }; // soap.beep: a scheme we cannot route
    case 'zeromf': return { status: 200 }; // OPTIONS answered here: Max-Forwards 0 is fine (§11)
    default: return { status: null, not400: true }; // "parse": a normal answer, never 400
  }
}

/** The sent-by port of the first Via line (5060 when absent): where the answer will be sent. */
function viaPort(data: Buffer): number {
  const via = /^(?:via|v)[ \t]*:[ \t]*SIP[ \t]*\/[ \t]*2\.0[ \t]*\/[ \t]*\w+[ \t]+[^;:\s,]+:(\d+)/im.exec(data.toString('latin1'));
  return via ? Number(via[1]) : 5060;
}

/** A UDP socket on `port` of some loopback address other than 127.0.0.1. */
async function bindSender(port: number): Promise<dgram.Socket> {
  for (let host = 2; host < 12; host++) {
    const s = dgram.createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      s.once('error', () => resolve(false));
      s.bind(port, `127.0.0.${host}`, () => resolve(true));
    });
    if (ok) return s;
    s.close();
  }
  throw new Error(`no free 127.0.0.x:${port} to send the corpus from`);
}

describe('Conformance: RFC 4475 torture messages against the running gateway', function () {
  this.timeout(30_000);
  let t: TestGateway;
  const senders = new Map<number, dgram.Socket>();

  before(async () => {
    // The torture messages are UDP datagrams; the registrar's TLS-only policy (a 403 before any
    // challenge) is tested on its own, so here REGISTER is let through to the digest challenge.
    // The corpus addresses example.com: the gateway serves that domain here.
    t = await startTestGateway(['registrar.requireTls=false', 'sip.domain=example.com']);
    // Responses go to the source address at the Via's sent-by port (RFC 3261 §18.2.2; 5060 or 5050
    // in the torture messages): so send each from that port on a loopback address of our own.
    for (const m of loadCorpus()) {
      const port = viaPort(m.data);
      if (!senders.has(port)) senders.set(port, await bindSender(port));
    }
  });
  after(async () => {
    for (const s of senders.values()) s.close();
    await t?.stop();
  });

  /** Sends one datagram and collects what comes back within `ms`. */
  function exchange(data: Buffer, ms: number): Promise<string[]> {
    return new Promise((resolve) => {
      const got: string[] = [];
      const on = (m: Buffer): void => {
        got.push(m.toString('latin1'));
      };
      const sock = senders.get(viaPort(data))!;
      sock.on('message', on);
      sock.send(data, t.port('UDP'), '127.0.0.1');
      setTimeout(() => {
        sock.off('message', on);
        resolve(got);
      }, ms);
    });
  }

  for (const m of loadCorpus()) {
    const want = expectedStatus(m);
    it(`${m.name} (§${m.section}, ${m.tortures}): ${m.expected}`, async () => {
      const replies = await exchange(m.data, want.status === null || want.not400 ? 400 : 250);
      // Only answers to this message: an unACKed INVITE's final response is retransmitted (Timer G)
      // into later tests, so match on the message's own Call-ID when it has one.
      const callId = /^(?:call-id|i)[ \t]*:[ \t]*(\S+)/im.exec(m.data.toString('latin1'))?.[1];
      const finals = replies.filter((r) => !/^SIP\/2\.0 1\d\d /.test(r) && (callId === undefined || r.includes(callId)));
      if (want.not400) {
        for (const r of finals) assert.doesNotMatch(r, /^SIP\/2\.0 400 /, 'a well-formed message must not get 400');
        return;
      }
      if (want.status === null) {
        assert.deepEqual(finals, [], 'nothing may be sent back');
        return;
      }
      assert.equal(finals.length, 1, `one final response expected, got ${finals.length}`);
      assert.match(finals[0], new RegExp(`^SIP/2\\.0 ${want.status} `));
      if (want.status === 400) assert.match(finals[0].split('\r\n')[0], /^SIP\/2\.0 400 Bad Request - \S/, 'the reason names the fault');
      if (want.header) assert.match(finals[0], new RegExp(`\\r\\n${want.header}: \\S`, 'i'));
    });
  }

  it('is still alive and answering after the whole corpus', async () => {
    const probe = loadCorpus().find((m) => m.name === 'zeromf')!;
    const replies = await exchange(probe.data, 250);
    assert.match(replies[0] ?? '', /^SIP\/2\.0 200 /);
  });
});
