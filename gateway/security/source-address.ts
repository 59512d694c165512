/**
 * How the defences name a traffic source, and which sources they leave alone.
 *
 * - IPv4: the address.
 * - IPv4-mapped IPv6 (`::ffff:192.0.2.1`, what a dual-stack socket reports): the IPv4 address.
 * - IPv6: the /64 prefix. RFC 4291 §2.5.4 / RFC 7421: a /64 is one link, usually one customer;
 *   an attacker gets 2^64 addresses inside it, so banning single IPv6 addresses bans nothing.
 */
import { BlockList, isIP } from 'node:net';
import { SecurityConfigError } from './types';

/** The key a source is counted and banned under. Undefined for something that is not an IP. */
export function sourceKey(address: string): string | undefined {
  const a = stripZone(address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address);
  const family = isIP(a);
  if (family === 4) return a;
  if (family !== 6) return undefined;
  const groups = expandIPv6(a);
  if (groups === undefined) return undefined;
  if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff) {
    return `${groups[6] >> 8}.${groups[6] & 0xff}.${groups[7] >> 8}.${groups[7] & 0xff}`;
  }
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
}

function stripZone(a: string): string {
  const pct = a.indexOf('%');
  return pct < 0 ? a : a.slice(0, pct);
}

/** The eight 16-bit groups of a valid IPv6 literal (already checked by isIP). */
function expandIPv6(a: string): number[] | undefined {
  let text = a.toLowerCase();
  // An embedded IPv4 dotted quad in the last 32 bits (RFC 4291 §2.2 form 3) becomes two groups.
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (last.includes('.')) {
    const o = last.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${((o[0] << 8) | o[1]).toString(16)}:${((o[2] << 8) | o[3]).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const head = parse(halves[0]);
  const rear = halves.length === 2 ? parse(halves[1]) : [];
  const missing = 8 - head.length - rear.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return undefined;
  const groups = [...head, ...new Array<number>(missing).fill(0), ...rear];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}

const MEMO_SIZE = 4096;

/**
 * Sources the defences never count or ban: loopback (when `loopback` is true) and the listed
 * addresses or prefixes (`192.0.2.10`, `10.0.0.0/8`, `2001:db8::/32`) — trunks, monitoring.
 */
export class ExemptSources {
  private readonly list = new BlockList();
  private empty = true;
  /**
   * Answers already given, by address text: BlockList.check builds a SocketAddress per call, which
   * showed in profiles at one check per message. Bounded: cleared when full.
   */
  private readonly memo = new Map<string, boolean>();

  constructor(loopback: boolean, entries: readonly string[]) {
    if (loopback) {
      this.list.addSubnet('127.0.0.0', 8, 'ipv4');
      this.list.addAddress('::1', 'ipv6');
      this.empty = false;
    }
    for (const entry of entries) this.add(entry);
  }

  has(address: string): boolean {
    if (this.empty) return false;
    const known = this.memo.get(address);
    if (known !== undefined) return known;
    const answer = this.check(address);
    if (this.memo.size >= MEMO_SIZE) this.memo.clear();
    this.memo.set(address, answer);
    return answer;
  }

  private check(address: string): boolean {
    const a = stripZone(address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address);
    const family = isIP(a);
    if (family === 0) return false;
    const v4 = family === 6 ? sourceKey(a) : a;
    if (v4 !== undefined && isIP(v4) === 4) return this.list.check(v4, 'ipv4');
    return this.list.check(a, 'ipv6');
  }

  private add(entry: string): void {
    const slash = entry.indexOf('/');
    const address = slash < 0 ? entry : entry.slice(0, slash);
    const family = isIP(address);
    if (family === 0) throw new SecurityConfigError(`exempt source ${JSON.stringify(entry)} is not an IP address or prefix`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (slash < 0) {
      this.list.addAddress(address, type);
    } else {
      const bitsText = entry.slice(slash + 1);
      const bits = /^[0-9]{1,3}$/.test(bitsText) ? Number(bitsText) : NaN;
      if (!(bits >= 0 && bits <= (family === 4 ? 32 : 128))) {
        throw new SecurityConfigError(`exempt source ${JSON.stringify(entry)} has an invalid prefix length`);
      }
      this.list.addSubnet(address, bits, type);
    }
    this.empty = false;
  }
}
