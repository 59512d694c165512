/**
 * The SDP edits a media-anchoring engine makes beyond media/sdp's rewrite helpers: dropping ICE
 * (RFC 8839) and BUNDLE (RFC 8843) when the engine's own address replaces the candidates, RTCP
 * mux attributes (RFC 5761 §5.1.1, RFC 8858), payload type renumbering, and our own o= line per leg
 * (RFC 3264 §8: same session id, version incremented whenever the description changes).
 */
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { writeSdp, type SdpMedia, type SdpSession } from '../sdp';

const ICE_ATTRIBUTES = new Set(['candidate', 'ice-ufrag', 'ice-pwd', 'ice-options', 'ice-lite', 'ice-mismatch', 'ice-pacing', 'end-of-candidates', 'remote-candidates']);

type Level = SdpSession | SdpMedia;

function attributeName(value: string): string {
  const colon = value.indexOf(':');
  return colon < 0 ? value : value.slice(0, colon);
}

function removeOpaque(level: Level, names: ReadonlySet<string>): void {
  if (!level.invalid) return;
  level.invalid = level.invalid.filter((i) => !names.has(attributeName(String(i.value))));
  if (level.invalid.length === 0) delete level.invalid;
}

/** Removes every ICE attribute of a level (they describe the previous hop's candidates). */
export function stripIce(level: Level): void {
  const l = level as Level & Record<string, unknown>;
  for (const key of ['iceUfrag', 'icePwd', 'iceOptions', 'icelite', 'candidates', 'endOfCandidates', 'remoteCandidates']) delete l[key];
  removeOpaque(level, ICE_ATTRIBUTES);
}

const SOURCE_ATTRIBUTES = new Set(['ssrc', 'ssrc-group', 'msid']);

/**
 * Removes a=ssrc, a=ssrc-group and a=msid (RFC 5576, RFC 8830): their CNAMEs often carry the
 * previous hop's user and address (baresip: `cname:sip:alice@192.0.2.7:5061`), which topology hiding
 * must not pass on. Receivers learn SSRCs from the packets themselves.
 */
export function stripSourceAttributes(level: Level): void {
  const l = level as Level & Record<string, unknown>;
  for (const key of ['ssrcs', 'ssrcGroups', 'msid']) delete l[key];
  removeOpaque(level, SOURCE_ATTRIBUTES);
}

/** Removes a=group:BUNDLE (each stream gets its own engine port) and a=bundle-only. */
export function stripBundle(sdp: SdpSession): void {
  if (sdp.groups) {
    sdp.groups = sdp.groups.filter((g) => g.type !== 'BUNDLE');
    if (sdp.groups.length === 0) delete sdp.groups;
  }
  for (const m of sdp.media) delete (m as SdpMedia & { bundleOnly?: unknown }).bundleOnly;
}

const ZRTP = new Set(['zrtp-hash']);
const DTLS = new Set(['fingerprint', 'setup']);

/** Removes a=zrtp-hash (RFC 6189 §8.1): a terminated leg must not claim ZRTP end to end. */
export function stripZrtpHash(level: Level): void {
  removeOpaque(level, ZRTP);
}

/** Removes a=fingerprint and a=setup (RFC 8122, RFC 4145): DTLS is not offered on a terminated leg. */
export function stripDtls(level: Level): void {
  delete level.fingerprint;
  delete (level as Level & { setup?: unknown }).setup;
  removeOpaque(level, DTLS);
}

const MUX_ONLY = new Set(['rtcp-mux-only']);

/** Sets a=rtcp-mux (and a=rtcp-mux-only, RFC 8858 §3) on a stream, or removes both. */
export function setRtcpMux(m: SdpMedia, mux: boolean, only = false): void {
  removeOpaque(m, MUX_ONLY);
  if (!mux) {
    delete m.rtcpMux;
    return;
  }
  m.rtcpMux = 'rtcp-mux';
  if (only) (m.invalid ??= []).push({ value: 'rtcp-mux-only' });
}

/** Renames payload types of a stream (m= list, rtpmap, fmtp, rtcp-fb); numbers not in `map` stay. */
export function renumberPayloads(m: SdpMedia, map: ReadonlyMap<number, number>): void {
  const to = (pt: number | string): number => map.get(Number(pt)) ?? Number(pt);
  m.payloads = String(m.payloads ?? '')
    .split(' ')
    .filter((p) => p !== '')
    .map((p) => String(to(p)))
    .join(' ');
  for (const r of m.rtp) r.payload = to(r.payload);
  for (const f of m.fmtp) f.payload = to(f.payload);
  if (m.rtcpFb) for (const f of m.rtcpFb) if (f.payload !== '*') f.payload = String(to(f.payload));
  if (m.invalid) {
    for (const i of m.invalid) {
      const v = String(i.value);
      const name = attributeName(v);
      if (name !== 'rtpmap' && name !== 'fmtp' && name !== 'rtcp-fb') continue;
      const rest = v.slice(name.length + 1);
      const space = rest.indexOf(' ');
      const pt = space < 0 ? rest : rest.slice(0, space);
      if (pt === '*' || !/^[0-9]{1,3}$/.test(pt)) continue;
      i.value = `${name}:${to(pt)}${space < 0 ? '' : rest.slice(space)}`;
    }
  }
}

/**
 * Our o= line toward one leg (RFC 4566 §5.2, RFC 3264 §8): a session id of our own, fixed for the
 * call, and a version that goes up by one whenever what we send that leg changes. The other leg's
 * o= (its user name, address and ids) never reaches this one.
 */
export class OriginStamp {
  private readonly sessionId = BigInt('0x' + randomBytes(7).toString('hex')).toString();
  private version = 0n;
  private lastBody: string | undefined;

  constructor(private readonly address: string) {}

  write(sdp: SdpSession): string {
    const stamp = (): string => {
      sdp.origin = {
        username: 'ciphergate',
        sessionId: this.sessionId,
        sessionVersion: this.version.toString() as unknown as number,
        netType: 'IN',
        ipVer: isIP(this.address) === 6 ? 6 : 4,
        address: this.address,
      };
      return writeSdp(sdp);
    };
    const text = stamp();
    const body = text.replace(/^o=[^\r\n]*/m, '');
    if (this.lastBody !== undefined && body !== this.lastBody) {
      this.version++;
      this.lastBody = body;
      return stamp();
    }
    this.lastBody = body;
    return text;
  }
}

/** An IP literal in the form the operating system reports sources in (rinfo.address). */
export function canonicalAddress(address: string): string {
  if (isIP(address) !== 6) return address;
  try {
    return new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return address;
  }
}
