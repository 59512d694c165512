/**
 * The engine's view of the `media` configuration section (config/schema.ts MediaDocument), resolved:
 * the address written in SDP, the relay thread count (issue "media plane" §7: one per core minus
 * one for signalling, at least one), the timers in milliseconds.
 */
import { isIP } from 'node:net';
import os from 'node:os';
import { isUnspecifiedAddress } from '../sdp';

/** The `media` section of the configuration, as the loader returns it. */
export interface MediaSettings {
  readonly portMin: number;
  readonly portMax: number;
  readonly address: string;
  readonly advertisedAddress?: string | null;
  readonly inactivitySec: number;
  readonly workers: number;
  readonly inThread: boolean;
  readonly allowDirectMedia: boolean;
  readonly maxPacketsPerSec: number;
  /** Streams each relay keeps bound ahead of need; default 0 (bind on demand). */
  readonly warmStreams?: number;
  /** In-kernel forwarding of latched pass-through legs; default 'off'. */
  readonly kernelForwarding?: 'auto' | 'off';
  /** Media sockets read in batches by the native I/O addon when it is built; default 'auto'. */
  readonly batchedIo?: 'auto' | 'off';
  /** Settled RTP/SRTP streams relayed by the I/O addon's native fast path (batched I/O only); default 'auto'. */
  readonly fastPath?: 'auto' | 'off';
  /** Nice value of the relay worker threads; null/absent = the process's own. */
  readonly nice?: number | null;
  /** The relay worker threads' policy: 'fifo'/'rr' real-time at rtPriority, or 'other' (default: the fair scheduler). */
  readonly scheduling?: 'other' | 'fifo' | 'rr';
  /** Real-time priority 1..99 under 'fifo'/'rr'; default 10. */
  readonly rtPriority?: number;
}

export interface ResolvedMediaSettings {
  readonly portMin: number;
  readonly portMax: number;
  readonly bindAddress: string;
  readonly advertisedAddress: string;
  readonly family: 4 | 6;
  /** 0 = in-thread. */
  readonly threads: number;
  readonly inactivityMs: number;
  readonly allowDirectMedia: boolean;
  readonly maxPacketsPerSec: number;
  readonly warmStreams: number;
  readonly kernelForwarding: 'auto' | 'off';
  readonly batchedIo: 'auto' | 'off';
  readonly fastPath: 'auto' | 'off';
  /** Nice value of the relay worker threads; undefined = unchanged. */
  readonly nice: number | undefined;
  /** The relay worker threads' real-time policy and priority; undefined = the fair scheduler. */
  readonly realtime: { readonly policy: 'fifo' | 'rr'; readonly priority: number } | undefined;
}

/**
 * media.rtPriority when not set. Any real-time priority is above every fair-scheduled task, which is
 * all a relay thread needs; 10 stays below the threaded interrupt handlers of kernels that thread
 * them (priority 50), so there a busy relay thread does not hold back the interrupts that bring its
 * packets in. (ksoftirqd is a fair task: docs/DESIGN.md "Relay thread scheduling".)
 */
export const DEFAULT_RT_PRIORITY = 10;

export class MediaSettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MediaSettingsError';
  }
}

export function resolveMediaSettings(s: MediaSettings, cpus: number = os.cpus().length): ResolvedMediaSettings {
  const family = isIP(s.address);
  if (family !== 4 && family !== 6) throw new MediaSettingsError('media.address must be an IP literal');
  let advertised = s.advertisedAddress ?? undefined;
  if (advertised === undefined) advertised = isUnspecifiedAddress(s.address) ? interfaceAddress(family) : s.address;
  if (isIP(advertised) !== family) throw new MediaSettingsError('media.advertisedAddress must be of the same IP family as media.address');
  if (isUnspecifiedAddress(advertised)) throw new MediaSettingsError('media.advertisedAddress must be a unicast address');
  if (s.portMin > s.portMax || s.portMax - s.portMin < 3) throw new MediaSettingsError('media.portMin..portMax must hold at least two port pairs');
  const rtPriority = s.rtPriority ?? DEFAULT_RT_PRIORITY;
  if (!Number.isInteger(rtPriority) || rtPriority < 1 || rtPriority > 99) throw new MediaSettingsError('media.rtPriority must be an integer from 1 to 99');
  const scheduling = s.scheduling ?? 'other';
  if (scheduling !== 'other' && scheduling !== 'fifo' && scheduling !== 'rr') throw new MediaSettingsError('media.scheduling must be other, fifo or rr');
  return {
    portMin: s.portMin,
    portMax: s.portMax,
    bindAddress: s.address,
    advertisedAddress: advertised,
    family,
    threads: s.inThread ? 0 : s.workers > 0 ? s.workers : Math.max(1, cpus - 1),
    inactivityMs: s.inactivitySec * 1000,
    allowDirectMedia: s.allowDirectMedia,
    maxPacketsPerSec: s.maxPacketsPerSec,
    warmStreams: s.warmStreams ?? 0,
    kernelForwarding: s.kernelForwarding ?? 'off',
    batchedIo: s.batchedIo ?? 'auto',
    fastPath: s.fastPath ?? 'auto',
    nice: s.nice ?? undefined,
    realtime: scheduling === 'other' ? undefined : { policy: scheduling, priority: rtPriority },
  };
}

/** The first non-internal interface address of a family, else the loopback address. */
function interfaceAddress(family: 4 | 6): string {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.internal || (family === 4 ? a.family !== 'IPv4' : a.family !== 'IPv6')) continue;
      if (family === 6 && a.address.toLowerCase().startsWith('fe80')) continue; // link-local needs a scope
      return a.address;
    }
  }
  return family === 4 ? '127.0.0.1' : '::1';
}
