/**
 * In-kernel forwarding of one pass-through leg (kernel/program.ts): the rules of its two
 * components (the RTP port and the RTCP port) and what the kernel forwarded under them since this
 * thread last looked. Once a leg's source is latched (latch.ts, by the user-space path, as always),
 * its packets are relayed by the kernel and never reach this thread; everything else still does.
 */
import { KernelRules, type Rule, type RuleCounters } from './kernel/rules';

export type Component = 0 | 1;

/** A rule's counters as they grew since the previous harvest; `lastMs` on the rules' monotonic clock. */
export type Forwarded = RuleCounters;

interface Placed {
  readonly key: Buffer;
  readonly id: string;
  packets: number;
  octets: number;
  floodDrops: number;
}

const idOf = (r: Rule): string =>
  `${r.source.address}:${r.source.port}>${r.local.address}:${r.local.port}>${r.out.address}:${r.out.port}>${r.dest.address}:${r.dest.port}/${r.limit}`;

export class LegOffload {
  private readonly placed: [Placed | undefined, Placed | undefined] = [undefined, undefined];

  constructor(private readonly rules: KernelRules) {}

  /**
   * Puts `rule` in place for `component`, or takes the component's rule away (undefined, or a
   * rule the kernel cannot carry). Harvest first: a replaced rule's counters go with it. A rule the
   * map refuses (full) is not placed: user space relays those packets, as without a forwarder.
   */
  place(component: Component, rule: Rule | undefined): void {
    const id = rule !== undefined && KernelRules.fits(rule) ? idOf(rule) : undefined;
    const old = this.placed[component];
    if (old?.id === id) return;
    if (old !== undefined) {
      this.rules.remove(old.key);
      this.placed[component] = undefined;
    }
    if (rule === undefined || id === undefined) return;
    const key = KernelRules.keyOf(rule);
    try {
      this.rules.write(key, rule);
    } catch {
      return;
    }
    this.placed[component] = { key, id, packets: 0, octets: 0, floodDrops: 0 };
  }

  /** What the kernel did under `component`'s rule since the previous call, if it did anything. */
  harvest(component: Component): Forwarded | undefined {
    const p = this.placed[component];
    if (p === undefined) return undefined;
    const c = this.rules.read(p.key);
    if (c === undefined || (c.packets === p.packets && c.floodDrops === p.floodDrops)) return undefined;
    const out = { packets: c.packets - p.packets, octets: c.octets - p.octets, floodDrops: c.floodDrops - p.floodDrops, lastMs: c.lastMs };
    p.packets = c.packets;
    p.octets = c.octets;
    p.floodDrops = c.floodDrops;
    return out;
  }

  /** The clock of Forwarded.lastMs. */
  monotonicMs(): number {
    return this.rules.monotonicMs();
  }

  clear(): void {
    this.place(0, undefined);
    this.place(1, undefined);
  }
}
