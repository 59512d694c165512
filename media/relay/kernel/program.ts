/**
 * The in-kernel forwarder: a tc program (BPF_PROG_TYPE_SCHED_CLS, attached to the media
 * interface's ingress) that relays the packets of latched pass-through legs without waking the
 * relay thread, as rtpengine's kernel module does for its streams. Everything else (a source that
 * is not latched, a leg that is not pass-through, anything not IPv4/UDP, fragments) goes on to
 * the relay's socket unchanged, where the user-space path (leg.ts) decides as before.
 *
 * Per packet: IPv4 (20-octet header, not a fragment) / UDP → look up the rule keyed by
 * (source address, destination address, source port, destination port) as the packet carries
 * them, i.e. (latched endpoint, our leg's address) → over the rule's rate limit (a 1 s window):
 * dropped and counted, as user space drops a flood → rewrite the addresses and ports to the rule's
 * (our other leg's address → the other endpoint), fix the IPv4 and UDP checksums with the
 * differences user space computed when it wrote the rule → count → deliver (DELIVERY): to a peer
 * on this host out of loopback, where it comes in again as if user space had sent it (and a
 * capture on lo sees it), else out of the rule's interface through bpf_redirect_neigh (the
 * kernel's route and neighbour lookup; it needs no forwarding sysctl, which bpf_fib_lookup does). The payload is never read: pass-through stays opaque (issue "media
 * plane" §5), the kernel no more holds a key than the relay does.
 */
import { Assembler, FP, R0, R1, R2, R3, R4, R5, R6, R7, R8 } from './asm';

/** Map key: the packet's IPv4 source and destination addresses, then its UDP source and destination ports (network order). */
export const KEY_SIZE = 12;

/** Map value layout (octets), shared with rules.ts. Counters are written by the program only. */
export const VALUE = {
  /** New source and destination addresses (network order), 4 + 4. */
  addresses: 0,
  /** New source and destination ports (network order), 2 + 2. */
  ports: 8,
  /** Packets per second allowed before the excess is dropped (u32). */
  limit: 12,
  /** RFC 1624 checksum difference of the address change (host-order partial sum, u32). */
  addressDiff: 16,
  /** Same, of the port change (u32). */
  portDiff: 20,
  /** u64 counters. */
  packets: 24,
  octets: 32,
  windowStart: 40,
  windowCount: 48,
  lastNs: 56,
  floodDrops: 64,
  /** Interface the rewritten packet leaves by (u32), as `delivery` says. */
  egressIfindex: 72,
  /** DELIVERY (u32). */
  delivery: 76,
  /** The relay thread that wrote the rule (u32; rules.ts), never read by the program. */
  owner: 80,
  size: 88,
} as const;

/** How a rewritten packet goes on (VALUE.delivery). */
export const DELIVERY = {
  /** Up the stack: the other endpoint is on this host (the packet came in on another interface). */
  local: 0,
  /** Out of the loopback interface (bpf_redirect): a peer on this host, reached on loopback, as user space would send it (and as a capture on lo sees it). */
  loopback: 1,
  /** Out of `egressIfindex` to the next hop the kernel finds (bpf_redirect_neigh). */
  neighbour: 2,
} as const;

// Helper function ids (include/uapi/linux/bpf.h __BPF_FUNC_MAPPER).
const MAP_LOOKUP_ELEM = 1, KTIME_GET_NS = 5, SKB_STORE_BYTES = 9, L3_CSUM_REPLACE = 10, L4_CSUM_REPLACE = 11, REDIRECT = 23, REDIRECT_NEIGH = 152;
// struct __sk_buff offsets.
const SKB_LEN = 0, SKB_DATA = 76, SKB_DATA_END = 80;
// Frame layout: Ethernet (14; loopback carries one too), IPv4 without options (20), UDP (8).
const ETH = 14, IP_FRAG = ETH + 6, IP_PROTO = ETH + 9, IP_CHECK = ETH + 10, IP_ADDRS = ETH + 12, UDP = ETH + 20, UDP_CHECK = UDP + 6;
const HEADERS = UDP + 8;
const KEY = -16;
const IPPROTO_UDP = 17;
const BPF_F_PSEUDO_HDR = 0x10, BPF_F_MARK_MANGLED_0 = 0x20;
// TCX verdicts: on to the next program / the stack, delivered, dropped.
const TCX_NEXT = -1, TCX_PASS = 0, TCX_DROP = 2;
const NS_PER_WINDOW = 1_000_000_000;

/** The program's instructions, for `progLoad`, bound to the rule map `mapFd`. */
export function forwarderProgram(mapFd: number): Uint8Array {
  const a = new Assembler();
  a.mov(R6, R1); // r6 = skb
  // IPv4 / UDP, header without options, not a fragment: else not ours.
  a.load(4, R2, R6, SKB_DATA).load(4, R3, R6, SKB_DATA_END);
  a.mov(R4, R2).addImm(R4, HEADERS).jumpReg('gt', R4, R3, 'next');
  a.load(2, R4, R2, 12).jumpImm('ne', R4, 0x0008, 'next'); // ETH_P_IP, read little-endian
  a.load(1, R4, R2, ETH).jumpImm('ne', R4, 0x45, 'next');
  a.load(1, R4, R2, IP_PROTO).jumpImm('ne', R4, IPPROTO_UDP, 'next');
  a.load(2, R4, R2, IP_FRAG).andImm(R4, 0xff3f).jumpImm('ne', R4, 0, 'next'); // MF | offset (0x3fff, big-endian)
  // The rule for this 4-tuple, if any.
  a.load(4, R4, R2, IP_ADDRS).store(4, FP, KEY, R4);
  a.load(4, R4, R2, IP_ADDRS + 4).store(4, FP, KEY + 4, R4);
  a.load(4, R4, R2, UDP).store(4, FP, KEY + 8, R4);
  a.loadMap(R1, mapFd).mov(R2, FP).addImm(R2, KEY).call(MAP_LOOKUP_ELEM);
  a.jumpImm('eq', R0, 0, 'next');
  a.mov(R7, R0); // r7 = the rule
  // Rate limit: a new window every second; over the limit, dropped and counted.
  a.call(KTIME_GET_NS).mov(R8, R0); // r8 = now, ns
  a.load(8, R1, R7, VALUE.windowStart).mov(R2, R8).sub(R2, R1);
  a.jumpImm('lt', R2, NS_PER_WINDOW, 'in-window');
  a.store(8, R7, VALUE.windowStart, R8).storeImm(8, R7, VALUE.windowCount, 0);
  a.label('in-window');
  a.movImm(R1, 1).atomicAdd64(R7, VALUE.windowCount, R1);
  a.load(8, R1, R7, VALUE.windowCount).load(4, R2, R7, VALUE.limit);
  a.jumpReg('le', R1, R2, 'rewrite');
  a.movImm(R1, 1).atomicAdd64(R7, VALUE.floodDrops, R1);
  a.movImm(R0, TCX_DROP).exit();
  // Rewrite addresses and ports, then the checksums (RFC 1624 incremental update).
  a.label('rewrite');
  a.mov(R1, R6).movImm(R2, IP_ADDRS).mov(R3, R7).movImm(R4, 8).movImm(R5, 0).call(SKB_STORE_BYTES);
  a.jumpImm('ne', R0, 0, 'next');
  a.mov(R1, R6).movImm(R2, UDP).mov(R3, R7).addImm(R3, VALUE.ports).movImm(R4, 4).movImm(R5, 0).call(SKB_STORE_BYTES);
  a.mov(R1, R6).movImm(R2, IP_CHECK).movImm(R3, 0).load(4, R4, R7, VALUE.addressDiff).movImm(R5, 0).call(L3_CSUM_REPLACE);
  // The UDP checksum covers the addresses through its pseudo-header, and the ports.
  a.mov(R1, R6).movImm(R2, UDP_CHECK).movImm(R3, 0).load(4, R4, R7, VALUE.addressDiff).movImm(R5, BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0).call(L4_CSUM_REPLACE);
  a.mov(R1, R6).movImm(R2, UDP_CHECK).movImm(R3, 0).load(4, R4, R7, VALUE.portDiff).movImm(R5, BPF_F_MARK_MANGLED_0).call(L4_CSUM_REPLACE);
  // Count (octets as user space counts them: the UDP payload).
  a.movImm(R1, 1).atomicAdd64(R7, VALUE.packets, R1);
  a.load(4, R1, R6, SKB_LEN).addImm(R1, -HEADERS).atomicAdd64(R7, VALUE.octets, R1);
  a.store(8, R7, VALUE.lastNs, R8);
  // Deliver as the rule says (DELIVERY): up the stack, out of loopback, or out of the rule's
  // interface to the next hop the kernel finds (bpf_redirect_neigh: needs no forwarding sysctl).
  a.load(4, R2, R7, VALUE.delivery).jumpImm('eq', R2, DELIVERY.local, 'local');
  a.load(4, R1, R7, VALUE.egressIfindex);
  a.jumpImm('eq', R2, DELIVERY.loopback, 'loopback');
  a.movImm(R2, 0).movImm(R3, 0).movImm(R4, 0).call(REDIRECT_NEIGH);
  a.exit();
  a.label('loopback');
  a.movImm(R2, 0).call(REDIRECT);
  a.exit();
  a.label('local');
  a.movImm(R0, TCX_PASS).exit();
  a.label('next');
  a.movImm(R0, TCX_NEXT).exit();
  return a.assemble();
}
