/**
 * Loader of the kernel-forwarding addon (binding.gyp, src/kfwd.c): bpf(2) wrappers for the map,
 * program and TCX link of the in-kernel forwarder (../program.ts, ../forwarder.ts). Optional: when
 * it is not built or fails to load, `loadKfwd()` returns null and media is relayed in user space.
 */
import { addonPath, lazyAddon } from '../../../addon';

export interface NativeKfwd {
  /** A hash map of 12-octet keys and 88-octet values (BPF_F_NO_PREALLOC); its descriptor. */
  mapCreate(maxEntries: number): number;
  /** Loads a BPF_PROG_TYPE_SCHED_CLS program; throws with the verifier's verdict on refusal. */
  progLoad(instructions: Uint8Array): number;
  /** Attaches a program to the ingress of interface `ifindex` (TCX, Linux 6.6+); the link's descriptor. */
  tcxAttach(progFd: number, ifindex: number): number;
  mapUpdate(mapFd: number, key: Uint8Array, value: Uint8Array): boolean;
  /** Copies the entry's value into `out`; false when there is none. */
  mapLookup(mapFd: number, key: Uint8Array, out: Uint8Array): boolean;
  mapDelete(mapFd: number, key: Uint8Array): boolean;
  /** The key after `key` (the first when null) into `out`; false at the end (BPF_MAP_GET_NEXT_KEY). */
  mapNextKey(mapFd: number, key: Uint8Array | null, out: Uint8Array): boolean;
  /** if_nametoindex(3); 0 when there is no such interface. */
  ifIndex(name: string): number;
  /** CLOCK_MONOTONIC in ms: the clock of the program's timestamps. */
  monotonicMs(): number;
  closeFd(fd: number): void;
}

const FUNCTIONS = ['mapCreate', 'progLoad', 'tcxAttach', 'mapUpdate', 'mapLookup', 'mapDelete', 'mapNextKey', 'ifIndex', 'monotonicMs', 'closeFd'] as const;

function isNativeKfwd(value: unknown): value is NativeKfwd {
  const v = value as Record<string, unknown> | null;
  return typeof v === 'object' && v !== null && FUNCTIONS.every((f) => typeof v[f] === 'function');
}

const addon = lazyAddon(addonPath(__dirname, 'media/relay/kernel/native', 'ciphergate_kfwd.node'), isNativeKfwd);

/** The addon (loaded at most once per thread), or null. */
export const loadKfwd = addon.load;

/** Why the addon is not in use (undefined when it is). */
export const kfwdFault = addon.fault;
