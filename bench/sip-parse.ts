/**
 * Benchmark of the SIP message layer: parse + serialize of a typical INVITE with SDP and a typical
 * REGISTER (median ns/op over batches), and the time to parse-or-reject a 64 KB "Contact bomb"
 * datagram (RFC 4475 §3.1.1.7 spirit: size must not buy an attacker CPU).
 */
import { SipParseError } from '../gateway/sip/message/errors';
import { parseMessage } from '../gateway/sip/message/parser';
import { serializeMessage } from '../gateway/sip/message/serializer';
import { median } from './median';

const CRLF = '\r\n';

/** A typical INVITE from a softphone over TLS, with an SDP offer (SRTP, two codecs). */
export function typicalInvite(): Buffer {
  const sdp = [
    'v=0',
    'o=alice 2890844526 2890844526 IN IP4 192.0.2.10',
    's=-',
    'c=IN IP4 192.0.2.10',
    't=0 0',
    'm=audio 49170 RTP/SAVP 0 8 101',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-16',
    'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32',
    'a=sendrecv',
    '',
  ].join(CRLF);
  const head = [
    'INVITE sip:bob@biloxi.example.com SIP/2.0',
    'Via: SIP/2.0/TLS 192.0.2.10:5061;branch=z9hG4bK776asdhds;rport',
    'Max-Forwards: 70',
    'To: "Bob" <sip:bob@biloxi.example.com>',
    'From: "Alice" <sip:alice@atlanta.example.com>;tag=1928301774',
    'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
    'CSeq: 314159 INVITE',
    'Contact: <sip:alice@192.0.2.10:5061;transport=tls>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>"',
    'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO, REFER, NOTIFY',
    'Supported: replaces, timer, 100rel',
    'User-Agent: baresip v3.10.1 (x86_64/linux)',
    'Content-Type: application/sdp',
    `Content-Length: ${Buffer.byteLength(sdp)}`,
    '',
    '',
  ].join(CRLF);
  return Buffer.from(head + sdp);
}

export function typicalRegister(): Buffer {
  return Buffer.from(
    [
      'REGISTER sip:registrar.biloxi.example.com SIP/2.0',
      'Via: SIP/2.0/TLS 192.0.2.20:5061;branch=z9hG4bKnashds7;rport',
      'Max-Forwards: 70',
      'To: Bob <sip:bob@biloxi.example.com>',
      'From: Bob <sip:bob@biloxi.example.com>;tag=456248',
      'Call-ID: 843817637684230@998sdasdh09',
      'CSeq: 1826 REGISTER',
      'Contact: <sip:bob@192.0.2.20:5061;transport=tls>;expires=3600',
      'Expires: 3600',
      'Content-Length: 0',
      '',
      '',
    ].join(CRLF),
  );
}

/**
 * A 64 KB datagram carrying ~6000 Contact values in one header. `spread` puts them in many Contact
 * header lines instead.
 */
export function contactBomb(spread = false): Buffer {
  const head = [
    'REGISTER sip:registrar.example.com SIP/2.0',
    'Via: SIP/2.0/UDP 192.0.2.66;branch=z9hG4bKbomb',
    'Max-Forwards: 70',
    'To: <sip:x@example.com>',
    'From: <sip:x@example.com>;tag=1',
    'Call-ID: bomb@192.0.2.66',
    'CSeq: 1 REGISTER',
  ].join(CRLF) + CRLF;
  const contacts: string[] = [];
  for (let i = 0; i < 6000; i++) contacts.push(`sip:h${i}`);
  const list = spread ? contacts.map((c) => `m:${c}`).join(CRLF) : 'Contact: ' + contacts.join(',');
  const msg = Buffer.from(head + list + CRLF + 'l: 0' + CRLF + CRLF);
  return msg.length > 65535 ? msg.subarray(0, 65535) : msg;
}


interface Timing {
  /** Median wall-clock ns per call. */
  wall: number;
  /** Median CPU (user + system) ns per call: less sensitive to other processes on a busy host. */
  cpu: number;
}

/** Median ns per call of fn over `batches` batches of `per` calls, after a warm-up. */
function measure(fn: () => void, batches: number, per: number): Timing {
  for (let i = 0; i < per * 5; i++) fn();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let b = 0; b < batches; b++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < per; i++) fn();
    wall.push(Number(process.hrtime.bigint() - t0) / per);
    const c = process.cpuUsage(c0);
    cpu.push(((c.user + c.system) * 1000) / per);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

function parseOrReject(data: Buffer, limits?: { maxHeaderLineLength: number }): void {
  try {
    parseMessage(data, { stream: false, limits });
  } catch (e) {
    if (!(e instanceof SipParseError)) throw e;
  }
}

const us = (ns: number): number => +(ns / 1000).toFixed(2);

export async function run(): Promise<Record<string, number | string>> {
  const invite = typicalInvite();
  const register = typicalRegister();
  let sink = 0;
  // How fast this host is: JSON.parse of a small object (~0.2-0.3 µs on a current desktop core).
  const json = JSON.stringify({ a: 1, b: 'hello', c: [1, 2, 3], d: { e: 'x' } });
  const calibration = measure(() => {
    sink += (JSON.parse(json) as { a: number }).a;
  }, 30, 20000);
  const inviteT = measure(() => {
    sink += serializeMessage(parseMessage(invite, { stream: true })).length;
  }, 50, 2000);
  const registerT = measure(() => {
    sink += serializeMessage(parseMessage(register, { stream: true })).length;
  }, 50, 2000);
  const inviteParseT = measure(() => {
    sink += parseMessage(invite, { stream: true }).body.length;
  }, 50, 2000);
  const bombs = [contactBomb(false), contactBomb(true)];
  // Also with the line-length limit lifted, so the per-list bound is what stops it.
  const bombT = [
    measure(() => parseOrReject(bombs[0]), 20, 20),
    measure(() => parseOrReject(bombs[1]), 20, 20),
    measure(() => parseOrReject(bombs[0], { maxHeaderLineLength: 1 << 20 }), 20, 20),
  ];
  if (sink === 0) throw new Error('benchmark optimised away');
  return {
    bench: 'sip-parse',
    invite_us: us(inviteT.wall),
    invite_cpu_us: us(inviteT.cpu),
    invite_parse_only_us: us(inviteParseT.wall),
    register_us: us(registerT.wall),
    register_cpu_us: us(registerT.cpu),
    contact_bomb_ms: +(Math.max(...bombT.map((t) => t.wall)) / 1e6).toFixed(3),
    calibration_json_parse_ns: Math.round(calibration.wall),
    invite_bytes: invite.length,
    register_bytes: register.length,
    contact_bomb_bytes: bombs[0].length,
  };
}

if (require.main === module) {
  void run().then((r) => console.log(JSON.stringify(r)));
}
