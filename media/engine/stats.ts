/** query(): the relay's per-stream counters arranged per leg, with the engine's own view added. */
import type { StreamStatsWire } from '../relay/protocol';
import { DROP_REASONS, type DropReason } from '../relay/stats';
import type { Call, LegIndex } from './call';
import type { CallStats, LegStats, StreamLegStats } from './types';

const ZERO_DROPS = Object.freeze(Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>);

export function buildCallStats(call: Call, wire: readonly StreamStatsWire[], address: string): CallStats {
  const byId = new Map(wire.map((w) => [w.streamId, w]));
  const leg = (i: LegIndex): LegStats => {
    const streams: StreamLegStats[] = [];
    call.streams.forEach((s, index) => {
      if (!s) return;
      const side = s.sides[i];
      const w = byId.get(s.id);
      const l = w?.legs[i];
      const port = side.port ?? 0;
      streams.push({
        index,
        mediaType: s.mediaType,
        mode: side.mode,
        suite: side.mode === 'srtp' ? side.sdes?.suite : undefined,
        local: { address, rtpPort: port, rtcpPort: port === 0 ? 0 : port + 1 },
        rtcpMux: side.rtcpMux,
        latched: l?.latched ?? { rtp: undefined, rtcp: undefined },
        rx: l?.rx ?? { packets: 0, bytes: 0, lost: 0, rtcpPackets: 0, rtcpBytes: 0, kernelPackets: 0, fastPackets: 0 },
        tx: l?.tx ?? { packets: 0, bytes: 0, rtcpPackets: 0, rtcpBytes: 0 },
        srtpAuthFailures: l?.srtpAuthFailures ?? 0,
        dropped: l?.dropped ?? ZERO_DROPS,
        idleMs: w?.idleMs ?? 0,
      });
    });
    return { tag: call.tags[i] ?? '', streams };
  };
  const legs: LegStats[] = [leg(0)];
  if (call.tags[1] !== undefined) legs.push(leg(1));
  return { callId: call.id, createdAt: call.createdAt, legs };
}
