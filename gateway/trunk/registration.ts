/**
 * Registration of the gateway to a PBX (RFC 3261 §10.2), for PBXs that find their trunks by
 * registration (Asterisk `registration` on their side is the mirror: we are the registering UA).
 *
 * - One Call-ID for all refreshes and CSeq incremented per REGISTER (§10.2.4: "the same Call-ID"
 *   so the registrar can order them).
 * - A 401/407 is answered once per REGISTER with digest (§22.2); rejected credentials stop there.
 * - The expiry granted is our Contact's `expires` in the 2xx, else its Expires header, else what we
 *   asked (§10.2.4). A refresh goes out well before it runs out: at max(half, expiry - 60 s).
 * - 423 Interval Too Brief: asked again with the Min-Expires the registrar names (§10.2.8).
 * - Failures (final error, timeout, transport error) are retried with a capped back-off.
 * - `stop()` removes the binding (Expires: 0, §10.2.2), best effort.
 */
import { serializeUri } from '../sip/message/uri';
import type { SipRequest, SipResponse } from '../sip/message/message';
import type { SipUri } from '../sip/message/types';
import type { Clock, TimerHandle } from '../sip/transaction/clock';
import { newCallId } from '../sip/transaction/ids';
import { buildRequest, sipUri, uriHost, type TrunkClient } from './client';
import type { TrunkPeer } from './peer';
import { TrunkConfigError } from './types';

export const RETRY_MIN_MS = 30_000;
export const RETRY_MAX_MS = 300_000;
const MAX_423_RETRIES = 2;

export interface RegistrationOptions {
  readonly peer: TrunkPeer;
  readonly client: TrunkClient;
  readonly clock: Clock;
  readonly userAgent: string;
  readonly onRegistered: (expiresSec: number) => void;
  readonly onFailed: (status: number) => void;
}

/** The expiry the registrar granted our Contact (RFC 3261 §10.2.4), in seconds. */
export function grantedExpires(res: SipResponse, contactText: string, asked: number): number {
  if (Array.isArray(res.contact)) {
    for (const c of res.contact) {
      if (serializeUri(c.uri) !== contactText) continue;
      const e = Number(c.params.get('expires'));
      if (Number.isInteger(e) && e >= 0) return e;
    }
  }
  const header = Number(res.headers.get('Expires'));
  return Number.isInteger(header) && header >= 0 ? header : asked;
}

export class TrunkRegistration {
  private readonly callId = newCallId();
  private cseq = 0;
  private expires: number;
  private timer: TimerHandle | undefined;
  private running = false;
  private retryMs = RETRY_MIN_MS;
  private readonly aor: SipUri;
  private readonly contactUri: SipUri;

  constructor(private readonly o: RegistrationOptions) {
    const reg = o.peer.register;
    if (reg === undefined) throw new TrunkConfigError(`trunks ${JSON.stringify(o.peer.name)}: registration is not enabled`);
    this.expires = reg.expiresSec;
    this.aor = sipUri(reg.user, o.peer.domain);
    const transport = o.peer.transport === 'UDP' ? [] : [['transport', o.peer.transport.toLowerCase()] as [string, string]];
    this.contactUri = sipUri(reg.user, uriHost(o.peer.local.address), o.peer.local.port, transport);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.attempt(0);
  }

  /** Cancels refreshes and removes the binding at the PBX (resolves when answered or failed). */
  async stop(): Promise<void> {
    const wasRegistered = this.o.peer.registered;
    this.running = false;
    if (this.timer !== undefined) this.o.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.o.peer.registered = false;
    if (wasRegistered) await this.o.client.send(this.o.peer, this.request(0)).catch(() => undefined);
  }

  private request(expires: number): SipRequest {
    return buildRequest(
      this.o.peer,
      {
        method: 'REGISTER',
        requestUri: sipUri(undefined, this.o.peer.domain),
        from: this.aor,
        to: this.aor,
        callId: this.callId,
        cseq: ++this.cseq,
        contact: { uri: this.contactUri, params: new Map() },
        headers: [['Expires', String(expires)]],
      },
      this.o.userAgent,
    );
  }

  private async attempt(tooBrief: number): Promise<void> {
    if (!this.running) return;
    const res = await this.o.client.send(this.o.peer, this.request(this.expires), (sent) => {
      this.cseq = sent.cseq.seq;
    });
    if (!this.running) return;
    if (res.status >= 200 && res.status < 300) {
      const granted = grantedExpires(res, serializeUri(this.contactUri), this.expires);
      this.retryMs = RETRY_MIN_MS;
      this.o.peer.registered = granted > 0;
      this.o.onRegistered(granted);
      const refreshSec = Math.max(granted / 2, granted - 60, 1);
      this.schedule(refreshSec * 1000, 0);
      return;
    }
    const minExpires = Number(res.headers.get('Min-Expires'));
    if (res.status === 423 && tooBrief < MAX_423_RETRIES && Number.isInteger(minExpires) && minExpires > this.expires && minExpires <= 86_400) {
      this.expires = minExpires;
      await this.attempt(tooBrief + 1);
      return;
    }
    this.o.peer.registered = false;
    this.o.onFailed(res.status);
    // Retry-After (RFC 3261 §20.33) when the registrar names one, within our bounds.
    const retryAfter = Number.parseInt(res.headers.get('Retry-After') ?? '', 10);
    const delay = Number.isInteger(retryAfter) && retryAfter > 0 ? Math.min(Math.max(retryAfter * 1000, RETRY_MIN_MS), RETRY_MAX_MS) : this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
    this.schedule(delay, 0);
  }

  private schedule(delayMs: number, tooBrief: number): void {
    if (!this.running) return;
    this.timer = this.o.clock.setTimer(() => void this.attempt(tooBrief), delayMs);
  }
}
