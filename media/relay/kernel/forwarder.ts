/**
 * The engine's side of in-kernel forwarding (program.ts): when `media.kernelForwarding` allows it,
 * create the rule map, load the program and attach it to the ingress of the interface that owns
 * `media.address`. The relay threads then write rules into the map (rules.ts) through its
 * descriptor, which every thread of the process shares.
 *
 * It needs CAP_BPF and CAP_NET_ADMIN (root, or a service unit granting them), Linux 6.6+ (TCX),
 * an IPv4 media address that is not the wildcard, and the addon. Without any of them `open` says
 * why and the engine relays everything in user space, as before: the kernel path is an offload,
 * never a requirement. The program is detached by the kernel when the link's descriptor closes,
 * so a gateway that dies leaves no forwarding behind.
 */
import os from 'node:os';
import { isIPv4 } from 'node:net';
import { loadKfwd, kfwdFault } from './native';
import { forwarderProgram, KEY_SIZE, VALUE } from './program';
import type { KernelForwarderWire } from './rules';

export class KernelForwarder {
  private closed = false;

  private constructor(
    readonly mapFd: number,
    private readonly progFd: number,
    private readonly linkFd: number,
    readonly interfaceName: string,
    readonly ifindex: number,
    readonly address: string,
    private readonly loopback: boolean,
  ) {}

  /** What the relay threads need to write rules (rules.ts). */
  get wire(): KernelForwarderWire {
    return { mapFd: this.mapFd, ifindex: this.ifindex, address: this.address, loopback: this.loopback };
  }

  /** The forwarder, or why there is none (a reason for one log line, never an exception). */
  static open(address: string, maxRules: number): KernelForwarder | string {
    const kfwd = loadKfwd();
    if (kfwd === null) return `addon ${kfwdFault() ?? 'unavailable'}`;
    if (!isIPv4(address) || address === '0.0.0.0') return `media.address ${address} is not one IPv4 address`;
    const found = interfaceOf(address);
    if (found === undefined) return `no interface has ${address}`;
    const { name, loopback } = found;
    const ifindex = kfwd.ifIndex(name);
    if (ifindex === 0) return `interface ${name} has no index`;
    const fds: number[] = [];
    try {
      const mapFd = kfwd.mapCreate(maxRules);
      fds.push(mapFd);
      const progFd = kfwd.progLoad(forwarderProgram(mapFd));
      fds.push(progFd);
      const linkFd = kfwd.tcxAttach(progFd, ifindex);
      return new KernelForwarder(mapFd, progFd, linkFd, name, ifindex, address, loopback);
    } catch (e) {
      for (const fd of fds.reverse()) kfwd.closeFd(fd);
      return e instanceof Error ? e.message : String(e);
    }
  }

  /**
   * Removes the rules a relay thread wrote (`owner`: its slot + 1) when that thread is gone: nothing
   * else would, and they would go on relaying for calls that ended with it. Returns how many.
   */
  purge(owner: number): number {
    const kfwd = loadKfwd()!;
    const value = Buffer.alloc(VALUE.size);
    const theirs: Uint8Array[] = [];
    let key: Uint8Array | null = null;
    for (;;) {
      const next = new Uint8Array(KEY_SIZE);
      if (!kfwd.mapNextKey(this.mapFd, key, next)) break;
      if (kfwd.mapLookup(this.mapFd, next, value) && value.readUInt32LE(VALUE.owner) === owner) theirs.push(next);
      key = next;
    }
    for (const k of theirs) kfwd.mapDelete(this.mapFd, k);
    return theirs.length;
  }

  /** Detaches the program and frees the map (call after the relay threads stopped using it). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const kfwd = loadKfwd()!;
    for (const fd of [this.linkFd, this.progFd, this.mapFd]) kfwd.closeFd(fd);
  }
}

/** The interface that owns `address` (loopback for 127/8, which lo owns whole). */
function interfaceOf(address: string): { name: string; loopback: boolean } | undefined {
  const all = Object.entries(os.networkInterfaces());
  for (const [name, addrs] of all) {
    const a = addrs?.find((x) => x.family === 'IPv4' && x.address === address);
    if (a !== undefined) return { name, loopback: a.internal };
  }
  if (!address.startsWith('127.')) return undefined;
  const lo = all.find(([, addrs]) => addrs?.some((a) => a.internal && a.family === 'IPv4'));
  return lo && { name: lo[0], loopback: true };
}
