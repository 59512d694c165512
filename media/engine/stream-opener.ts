/**
 * Relay streams of calls: two port pairs from the configured range (one per leg: RTP even, RTCP
 * +1, RFC 3550 §11), bound on the call's relay thread, and freed when the stream or call ends.
 * A port another program holds is skipped; running out is MediaPortsExhaustedError (503).
 */
import type { Logger } from '../../gateway/log/logger';
import type { RelayPool } from '../relay/pool';
import { PortsExhaustedError, type PortAllocator } from '../relay/ports';
import type { OpenReply } from '../relay/protocol';
import { StreamState, type Call } from './call';
import { MediaEngineError, MediaPortsExhaustedError } from './errors';

/** Bind attempts per stream before giving up (ports held by other programs are skipped). */
const BIND_ATTEMPTS = 8;

export class StreamOpener {
  private nextStreamId = 1;

  constructor(
    private readonly ports: PortAllocator,
    private readonly pool: RelayPool,
    private readonly bindAddress: string,
    private readonly log: Logger | undefined,
  ) {}

  /** The stream at `index`, opened on the call's relay if it is not yet. */
  async ensure(call: Call, index: number, mediaType: string): Promise<StreamState> {
    const existing = call.streams[index];
    if (existing?.opened) {
      existing.mediaType = mediaType;
      return existing;
    }
    const stream = new StreamState(this.nextStreamId++, index, mediaType);
    for (let attempt = 1; ; attempt++) {
      const ports = this.allocatePair();
      let reply: OpenReply;
      try {
        reply = (await this.pool.request(call.slot, {
          op: 'open', streamId: stream.id, callId: call.id, index, address: this.bindAddress, ports,
        })) as OpenReply;
      } catch (e) {
        this.release(ports);
        throw new MediaEngineError('relay-failed', undefined, { cause: e });
      }
      if (reply.ok) {
        stream.sides[0].port = ports[0];
        stream.sides[1].port = ports[1];
        stream.opened = true;
        call.streams[index] = stream;
        return stream;
      }
      // Another program holds one of the ports: both pairs go to the back of the queue.
      this.release(ports);
      this.log?.warn('media: port pair unavailable, trying another', { port: ports[reply.leg], code: reply.code });
      if (attempt >= BIND_ATTEMPTS) throw new MediaPortsExhaustedError(`bind failed ${BIND_ATTEMPTS} times`);
    }
  }

  /** Closes the stream at `index` on the relay and frees its ports. */
  async drop(call: Call, index: number): Promise<void> {
    const s = call.streams[index];
    if (!s) return;
    call.streams[index] = undefined;
    if (!s.opened) return;
    s.opened = false;
    try {
      await this.pool.request(call.slot, { op: 'close', streamIds: [s.id] });
    } finally {
      this.releaseStream(s);
    }
  }

  /** Frees the ports of every stream of a call the relay no longer has (closed or lost). */
  forget(call: Call): void {
    for (const s of call.openStreams()) {
      s.opened = false;
      this.releaseStream(s);
    }
  }

  private allocatePair(): [number, number] {
    try {
      const first = this.ports.allocate();
      try {
        return [first, this.ports.allocate()];
      } catch (e) {
        this.ports.release(first);
        throw e;
      }
    } catch (e) {
      if (e instanceof PortsExhaustedError) throw new MediaPortsExhaustedError();
      throw e;
    }
  }

  private release(ports: readonly number[]): void {
    for (const p of ports) this.ports.release(p);
  }

  private releaseStream(s: StreamState): void {
    for (const side of s.sides) if (side.port !== undefined) this.ports.release(side.port);
  }
}
