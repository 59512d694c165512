/**
 * The media of a transferred call (transfer.ts): a new engine call between the transferee and the
 * target, so nothing of the transferor's leg (ports, SDES keys, engine tags) is reused; the old
 * engine call is deleted once the new one carries the media.
 *
 * The transferee has already seen our SDP for this session, so what it gets from the new engine
 * call keeps the o= line it knows (user name, session id, address), with a version one higher
 * whenever the description changes (RFC 3264 §8: a re-offer changes only the version). The target
 * starts a session of its own and gets the new engine call's o= line as it is.
 */
import type { MediaEngine } from '../../media/engine/types';
import { CallMedia } from './media';
import type { MediaProfile } from './types';

/** The engine call id of a call's `n`th transfer: the call's id, `~`, n (a call id is base64url). */
export function transferMediaId(callId: string, n: number): string {
  return `${callId}~${n}`;
}

/** The call id an engine call id belongs to (transferMediaId undone). */
export function callIdOfMedia(mediaId: string): string {
  const cut = mediaId.indexOf('~');
  return cut < 0 ? mediaId : mediaId.slice(0, cut);
}

/** The line of an SDP that starts with `o=`, as [start, end) offsets; undefined without one. */
function originLine(sdp: string): [number, number] | undefined {
  const start = sdp.startsWith('o=') ? 0 : sdp.indexOf('\no=') + 1;
  if (start === 0 && !sdp.startsWith('o=')) return undefined;
  let end = sdp.indexOf('\n', start);
  if (end < 0) end = sdp.length;
  if (end > start && sdp[end - 1] === '\r') end--;
  return [start, end];
}

/**
 * RFC 3264 §8 for one leg whose session goes on under another engine call: the o= line of the
 * leg's previous SDP, its version raised by one for every changed description.
 */
export class OriginContinuity {
  private readonly head: string;
  private readonly tail: string;
  private version: bigint;
  private lastBody: string | undefined;

  private constructor(fields: readonly string[]) {
    this.head = `o=${fields[0]} ${fields[1]}`;
    this.tail = fields.slice(3).join(' ');
    this.version = BigInt(fields[2]!);
  }

  /** From the SDP the leg got last (ours); undefined when it has no usable o= line. */
  static of(previous: string | undefined): OriginContinuity | undefined {
    if (previous === undefined) return undefined;
    const at = originLine(previous);
    if (at === undefined || at[1] - at[0] > 512) return undefined;
    const fields = previous.slice(at[0] + 2, at[1]).trim().split(' ');
    if (fields.length !== 6 || !/^[0-9]{1,20}$/.test(fields[2]!)) return undefined;
    return new OriginContinuity(fields);
  }

  /** `sdp` with the leg's o= line; the version goes up when anything but the o= line changed. */
  rewrite(sdp: string): string {
    const at = originLine(sdp);
    if (at === undefined) return sdp;
    const body = sdp.slice(0, at[0]) + sdp.slice(at[1]);
    if (body !== this.lastBody) {
      this.version++;
      this.lastBody = body;
    }
    return `${sdp.slice(0, at[0])}${this.head} ${this.version} ${this.tail}${sdp.slice(at[1])}`;
  }
}

/** CallMedia whose SDP toward the transferee keeps the transferee's session (OriginContinuity). */
export class TransferredMedia extends CallMedia {
  private readonly origin: OriginContinuity | undefined;

  constructor(
    engine: MediaEngine,
    id: string,
    requireSrtp: boolean,
    transcode: boolean,
    /** The transferee's engine tag. */
    private readonly transferee: string,
    /** The SDP the transferee got last from the old engine call. */
    previous: string | undefined,
  ) {
    super(engine, id, requireSrtp, transcode);
    this.origin = OriginContinuity.of(previous);
  }

  /** An offer from the other leg is written for the transferee. */
  override async offer(fromTag: string, from: MediaProfile, to: MediaProfile, sdp: string, branch?: string): Promise<string> {
    const out = await super.offer(fromTag, from, to, sdp, branch);
    return fromTag === this.transferee ? out : this.toTransferee(out);
  }

  /** The answer to the transferee's own offer is for the transferee. */
  override async answer(fromTag: string, toTag: string, answerer: MediaProfile, sdp: string): Promise<string> {
    const out = await super.answer(fromTag, toTag, answerer, sdp);
    return fromTag === this.transferee ? this.toTransferee(out) : out;
  }

  private toTransferee(sdp: string): string {
    return this.origin === undefined ? sdp : this.origin.rewrite(sdp);
  }
}
