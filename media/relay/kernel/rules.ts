/**
 * A relay thread's side of in-kernel forwarding: the rules it writes into the forwarder's map
 * (program.ts), one per leg component whose source is latched, and the counters it reads back.
 *
 * A rule says: a packet from `source` (the latched endpoint) to `local` (our leg's port) leaves
 * from `out` (our other leg's port) to `dest` (the other endpoint). Its checksum differences are
 * computed here, once, since the old and new addresses and ports are the rule's own constants
 * (RFC 1624: HC' = ~(~HC + ~m + m'), summed over the 16-bit words that change).
 */
import { isIPv4 } from 'node:net';
import os from 'node:os';
import type { TransportAddress } from '../protocol';
import { loadKfwd, type NativeKfwd } from './native';
import { DELIVERY, KEY_SIZE, VALUE } from './program';

/** What a relay thread is told of the engine's forwarder (structured-clonable). */
export interface KernelForwarderWire {
  readonly mapFd: number;
  readonly ifindex: number;
  /** The interface is the loopback one. */
  readonly loopback: boolean;
  /** Written into every rule of this thread: a relay worker's slot + 1 (0 in-thread), see KernelForwarder.purge. */
  readonly owner?: number;
  /** The relay's address in rules: where endpoints send to and what the rewritten packets come from. */
  readonly address: string;
}

/** What a rule forwarded since it was written. `lastMs`: CLOCK_MONOTONIC of the last packet, 0 if none. */
export interface RuleCounters {
  readonly packets: number;
  readonly octets: number;
  readonly floodDrops: number;
  readonly lastMs: number;
}

export interface Rule {
  readonly source: TransportAddress;
  readonly local: TransportAddress;
  readonly out: TransportAddress;
  readonly dest: TransportAddress;
  /** Packets per second forwarded before the excess is dropped (media.maxPacketsPerSec). */
  readonly limit: number;
}

export class KernelRules {
  private readonly value = Buffer.alloc(VALUE.size);

  /** This host's IPv4 addresses: a rule to one of them delivers up the stack instead of out of `ifindex`. */
  private readonly localAddresses = new Set<string>();

  private constructor(
    readonly address: string,
    private readonly mapFd: number,
    /** The interface the forwarder is attached to, where remote destinations are sent out. */
    private readonly ifindex: number,
    private readonly loopback: boolean,
    private readonly owner: number,
    private readonly kfwd: NativeKfwd,
  ) {
    for (const addrs of Object.values(os.networkInterfaces())) for (const a of addrs ?? []) if (a.family === 'IPv4') this.localAddresses.add(a.address);
  }

  /** The rules of the forwarder `kernel` (KernelForwarder.wire), or undefined without the addon in this thread. */
  static forForwarder(kernel: KernelForwarderWire): KernelRules | undefined {
    const kfwd = loadKfwd();
    return kfwd === null ? undefined : new KernelRules(kernel.address, kernel.mapFd, kernel.ifindex, kernel.loopback, kernel.owner ?? 0, kfwd);
  }

  /** Whether the kernel can carry `rule` (IPv4 everywhere). */
  static fits(rule: Rule): boolean {
    return isIPv4(rule.source.address) && isIPv4(rule.local.address) && isIPv4(rule.out.address) && isIPv4(rule.dest.address);
  }

  /** The map key of the packets a rule catches: the 4-tuple as they carry it. */
  static keyOf(rule: Rule): Buffer {
    const key = Buffer.alloc(KEY_SIZE);
    writeAddress(key, 0, rule.source.address);
    writeAddress(key, 4, rule.local.address);
    key.writeUInt16BE(rule.source.port, 8);
    key.writeUInt16BE(rule.local.port, 10);
    return key;
  }

  /** Writes (or rewrites, counters from zero) the rule under `key`; throws the system error on failure. */
  write(key: Buffer, rule: Rule): void {
    const v = this.value.fill(0);
    writeAddress(v, VALUE.addresses, rule.out.address);
    writeAddress(v, VALUE.addresses + 4, rule.dest.address);
    v.writeUInt16BE(rule.out.port, VALUE.ports);
    v.writeUInt16BE(rule.dest.port, VALUE.ports + 2);
    v.writeUInt32LE(Math.min(rule.limit, 0xffffffff), VALUE.limit);
    v.writeUInt32LE(checksumDiff(key.subarray(0, 8), v.subarray(VALUE.addresses, VALUE.addresses + 8)), VALUE.addressDiff);
    v.writeUInt32LE(checksumDiff(key.subarray(8, 12), v.subarray(VALUE.ports, VALUE.ports + 4)), VALUE.portDiff);
    const local = rule.dest.address.startsWith('127.') || this.localAddresses.has(rule.dest.address);
    v.writeUInt32LE(this.ifindex, VALUE.egressIfindex);
    v.writeUInt32LE(!local ? DELIVERY.neighbour : this.loopback ? DELIVERY.loopback : DELIVERY.local, VALUE.delivery);
    v.writeUInt32LE(this.owner, VALUE.owner);
    this.kfwd.mapUpdate(this.mapFd, key, v);
  }

  read(key: Buffer): RuleCounters | undefined {
    const v = this.value;
    if (!this.kfwd.mapLookup(this.mapFd, key, v)) return undefined;
    const u64 = (off: number): number => Number(v.readBigUInt64LE(off));
    const lastNs = v.readBigUInt64LE(VALUE.lastNs);
    return { packets: u64(VALUE.packets), octets: u64(VALUE.octets), floodDrops: u64(VALUE.floodDrops), lastMs: Number(lastNs / 1000n) / 1000 };
  }

  remove(key: Buffer): void {
    this.kfwd.mapDelete(this.mapFd, key);
  }

  /** The clock of RuleCounters.lastMs. */
  monotonicMs(): number {
    return this.kfwd.monotonicMs();
  }
}

function writeAddress(buf: Buffer, offset: number, address: string): void {
  const parts = address.split('.');
  for (let i = 0; i < 4; i++) buf[offset + i] = Number(parts[i]);
}

/**
 * The one's-complement difference (new − old) of equal-length octet strings, as the kernel's csum
 * helpers take it: 16-bit words in the host's (little-endian) reading of memory, folded.
 */
export function checksumDiff(old: Uint8Array, now: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < old.length; i += 2) {
    sum += (~(old[i]! | (old[i + 1]! << 8)) & 0xffff) + (now[i]! | (now[i + 1]! << 8));
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}
