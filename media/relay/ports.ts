/**
 * UDP port pairs from the configured range (media.portMin..media.portMax): RTP on an even port,
 * RTCP on the odd one above it (RFC 3550 §11, RFC 3605 §1). A pair is reserved whole even when
 * RTCP ends up muxed (RFC 5761), so that a later renegotiation without mux still finds it.
 *
 * Freed pairs go to the back of the queue: a port is reused as late as possible, so packets still
 * in flight for an ended call are unlikely to reach the next one (and would fail latching there).
 */
export class PortsExhaustedError extends Error {
  constructor(readonly portMin: number, readonly portMax: number) {
    super(`no free media port pair in ${portMin}..${portMax}`);
    this.name = 'PortsExhaustedError';
  }
}

export class PortAllocator {
  /** Free RTP ports, FIFO, as a ring buffer. */
  private readonly ring: Uint16Array;
  private head = 0;
  private count = 0;
  private readonly inUse = new Set<number>();

  constructor(
    readonly portMin: number,
    readonly portMax: number,
  ) {
    if (!Number.isInteger(portMin) || !Number.isInteger(portMax) || portMin < 1 || portMax > 65535 || portMin > portMax) {
      throw new RangeError(`invalid media port range ${portMin}..${portMax}`);
    }
    const first = portMin % 2 === 0 ? portMin : portMin + 1;
    const pairs = first + 1 > portMax ? 0 : Math.floor((portMax - first + 1) / 2);
    this.ring = new Uint16Array(Math.max(1, pairs));
    for (let i = 0; i < pairs; i++) this.push(first + 2 * i);
  }

  /** Pairs free right now. */
  get available(): number {
    return this.count;
  }

  get allocated(): number {
    return this.inUse.size;
  }

  /** The RTP port of a free pair (RTCP is that + 1). Throws PortsExhaustedError. */
  allocate(): number {
    if (this.count === 0) throw new PortsExhaustedError(this.portMin, this.portMax);
    const port = this.ring[this.head]!;
    this.head = (this.head + 1) % this.ring.length;
    this.count--;
    this.inUse.add(port);
    return port;
  }

  /** Returns a pair to the back of the queue. Releasing a pair that is not allocated is ignored. */
  release(port: number): void {
    if (!this.inUse.delete(port)) return;
    this.push(port);
  }

  private push(port: number): void {
    this.ring[(this.head + this.count) % this.ring.length] = port;
    this.count++;
  }
}
