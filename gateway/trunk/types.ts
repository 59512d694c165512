/**
 * SIP trunks to a PBX (Asterisk chan_pjsip, FreeSWITCH mod_sofia): static peers reached at a fixed
 * address, as RFC 3261 UAs (no proxying): optional REGISTER with digest (§10.2, §22.2), digest answers
 * to 401/407 on our requests (§22.2, §22.3), OPTIONS keep-alive (§11) and identification of the
 * requests they send us by source address (optionally digest, §22.4).
 *
 * Contract with the B2BUA (gateway/b2bua/):
 * - Outbound: `select(route.trunks)` gives the trunks to try, in order, that are not down. For
 *   each: build the INVITE with Request-URI `requestUriFor(trunk, number)`, send it with the
 *   transaction layer to `trunk.target`. On a 401/407, `answerChallenge(trunk, invite, response)`
 *   returns the re-INVITE to send (CSeq+1, fresh branch, credentials) or undefined (give up: the
 *   challenge cannot or must not be answered again). Move on to the next trunk when
 *   `isFailover(response)` (503, Timer B timeout, transport error); `reportFailure()` then, so the
 *   keep-alive state learns of it at once.
 * - In-dialog requests to a trunk (BYE, re-INVITE, INFO...) go where the dialog says (RFC 3261
 *   §8.1.2: first route, else the PBX's Contact; b2bua/next-hop.ts), `trunk.target` being only the
 *   fallback: `authorize(trunk, request)` adds credentials from the last challenge of that realm
 *   (PBXs often challenge BYE too), and `sendRequest(trunk, request, hop)` sends a non-INVITE
 *   request to that hop and retries once with credentials. The ACK for a 2xx copies the
 *   credentials of the INVITE it acknowledges (RFC 3261 §13.2.2.4), it is not `authorize`d.
 * - Inbound: `identify(info)` names the trunk a request came from (source IP; undefined: not a
 *   trunk, treat as a client). When `trunk.inbound.digest` is set, `authenticateInbound()` must
 *   accept the request before routing (it builds the 401 otherwise).
 * - Media: `trunk.media` is the SDP policy for the trunk leg (profile, codecs).
 *
 * Secrets: passwords and HA1s live inside DigestClient / private fields only; no Trunk property,
 * log line, event or error carries them.
 */
import type { SipRequest, SipResponse } from '../sip/message/message';
import type { SipUri } from '../sip/message/types';
import type { Endpoint, ReceivedInfo, SendTarget, TransportProtocol } from '../sip/transport/types';

/** Keep-alive view of a trunk: `unknown` until the first OPTIONS answer (treated like `up`). */
export type TrunkStatus = 'unknown' | 'up' | 'down';

/** How numbers are written in Request-URIs (and From user parts) toward the trunk. */
export type NumberFormat =
  /** `+34911234567` (RFC 3966 global number): the default. */
  | 'e164'
  /** `34911234567`: E.164 digits without `+` (many Asterisk dial plans). */
  | 'digits'
  /** `0911234567` for home-country numbers, `0044...` (international prefix) for the others. */
  | 'national';

/** SDP policy for the trunk leg (RFC 3264 offer/answer; RFC 4568 SDES when srtp). */
export interface TrunkMediaPolicy {
  /** `RTP/AVP` (plain RTP, the default) or `RTP/SAVP` (SRTP with SDES keys, when the trunk says so). */
  readonly profile: 'RTP/AVP' | 'RTP/SAVP';
  /** Encoding names in preference order (`PCMA`, `PCMU`, `G722`, `opus`); default `['PCMA', 'PCMU']`. */
  readonly codecs: readonly string[];
  /** Offer/accept telephone-event (RFC 4733 DTMF). Default true. */
  readonly telephoneEvent: boolean;
}

export interface TrunkInboundPolicy {
  /** Source addresses (IP literals or CIDR prefixes) identified as this trunk. Default: the host. */
  readonly addresses: readonly string[];
  /** Inbound requests must also pass digest (RFC 3261 §22.4) with the trunk's inbound credentials. */
  readonly digest: boolean;
}

/** One configured trunk with its live state (implemented by `TrunkPeer`, trunk/peer.ts). */
export interface Trunk {
  readonly name: string;
  /**
   * Where requests to the trunk go: protocol, host:port, SNI name for TLS. Requests inside a dialog
   * go to the dialog's next hop instead (RFC 3261 §8.1.2), over this protocol, with this SNI name.
   */
  readonly target: SendTarget;
  readonly transport: TransportProtocol;
  /**
   * Our address and port as this trunk sees them: Via sent-by and Contact host of requests to it
   * (RFC 3261 §18.1.1, §8.1.1.8). Resolved at start (trunk `localAddress`, else the listening
   * address, else the source address the OS routes toward the trunk).
   */
  readonly local: Endpoint;
  /** Host part of Request-URIs and To toward the trunk (the PBX's domain; default its address). */
  readonly domain: string;
  readonly numberFormat: NumberFormat;
  readonly media: TrunkMediaPolicy;
  readonly inbound: TrunkInboundPolicy;
  /** Outbound credentials configured (401/407 can be answered). */
  readonly hasCredentials: boolean;
  /** Keep-alive state. */
  readonly status: TrunkStatus;
  /** The trunk registers to the PBX, and the registration is currently accepted. */
  readonly registered: boolean;
}

/** Outcome of inbound digest for a trunk request (RFC 3261 §22.4). */
export type InboundAuthResult =
  | { readonly ok: true }
  /** Answer the request with `response` (401 with WWW-Authenticate, or 403). */
  | { readonly ok: false; readonly response: SipResponse };

/** Why an outbound attempt failed, for failover and the keep-alive state. */
export type TrunkFailure = 'timeout' | 'transport-error' | 'service-unavailable';

export interface TrunkEvents {
  /** Keep-alive saw the trunk answer again (any response) after it was down or unknown. */
  up: [trunk: Trunk];
  /** K consecutive keep-alive (or reported) failures. */
  down: [trunk: Trunk];
  /** The PBX accepted our REGISTER (RFC 3261 §10.2.4); `expires` in seconds as granted. */
  registered: [trunk: Trunk, expires: number];
  /** REGISTER failed (final status, 408 timeout or 503 transport error); retried later. */
  registrationFailed: [trunk: Trunk, status: number];
}

/** What the B2BUA uses. Implemented by `TrunkManager` (trunk/manager.ts). */
export interface TrunkService {
  readonly trunks: readonly Trunk[];
  get(name: string): Trunk | undefined;
  /**
   * TrunkGroup selection: the given trunks in order, without those that are `down`. Empty when all
   * are down: the B2BUA answers 503 (RFC 3261 §21.5.4).
   */
  select(trunks: readonly Trunk[]): Trunk[];
  /** `sip:<number in the trunk's format>@<domain>[:port][;transport=tcp|tls];user=phone` (RFC 3261 §19.1.6). */
  requestUriFor(trunk: Trunk, e164OrShortCode: string): SipUri;
  /** A number in the trunk's format (for From/P-Asserted-Identity user parts). */
  formatNumber(trunk: Trunk, e164OrShortCode: string): string;
  /**
   * RFC 3261 §22.2/§22.3: the request to send after a 401/407 — a copy of `request` with CSeq+1,
   * no Via branch (the transaction layer makes a fresh one) and Authorization/Proxy-Authorization.
   * Undefined when the trunk has no credentials, the challenge is unusable, or answering would
   * loop (credentials just rejected): pass the 401/407 on as a failure.
   */
  answerChallenge(trunk: Trunk, request: SipRequest, challenge: SipResponse): SipRequest | undefined;
  /**
   * Adds credentials for `request` from the trunk's remembered challenges (none: unchanged).
   * Optional (saves a round trip on PBXs that challenge in-dialog requests). If the PBX challenges
   * the request anyway (nonce expired), `answerChallenge` answers once more. Not for the ACK of a
   * 2xx: RFC 3261 §13.2.2.4 wants the INVITE's own credential values copied into it.
   */
  authorize(trunk: Trunk, request: SipRequest): void;
  /**
   * Sends a non-INVITE request to the trunk in its own client transaction and resolves with the
   * final response (a local 408/503 on timeout/transport error); a 401/407 is answered once. Both
   * go to `target`: for a request inside a dialog, the dialog's next hop (RFC 3261 §8.1.2); by
   * default the trunk's configured `target`.
   */
  sendRequest(trunk: Trunk, request: SipRequest, target?: SendTarget): Promise<SipResponse>;
  /** True for a final response after which the next trunk is tried: 503, or a local 408/503. */
  isFailover(response: SipResponse): boolean;
  /** Tells the keep-alive state that an outbound attempt failed (counts toward `down`). */
  reportFailure(trunk: Trunk, failure: TrunkFailure): void;
  /** The trunk a request came from, by source address (and transport); undefined: not a trunk. */
  identify(info: ReceivedInfo): Trunk | undefined;
  /** Inbound digest for trunks with `inbound.digest` (always ok for the others). */
  authenticateInbound(trunk: Trunk, request: SipRequest, info: ReceivedInfo): Promise<InboundAuthResult>;
  on<E extends keyof TrunkEvents>(event: E, listener: (...args: TrunkEvents[E]) => void): unknown;
  off<E extends keyof TrunkEvents>(event: E, listener: (...args: TrunkEvents[E]) => void): unknown;
}

// ---------------------------------------------------------------------------------------------------
// Configuration (config key `trunks`, a list)
// ---------------------------------------------------------------------------------------------------

/** Credentials for digest: a password, or an HA1 (hex) for `realm`. Never logged. */
export interface TrunkCredentialsConfig {
  readonly username: string;
  readonly password?: string;
  /** HA1 = H(username:realm:password), hex, for the hash named by `ha1Algorithm` (default MD5). */
  readonly ha1?: string;
  readonly ha1Algorithm?: 'MD5' | 'SHA-256' | 'SHA-512-256';
  /** Only challenges of this realm are answered (required with `ha1`, advised always). */
  readonly realm?: string;
}

export interface TrunkConfig {
  readonly name: string;
  /** IP literal of the PBX (no DNS resolution yet). */
  readonly host: string;
  readonly port?: number;
  readonly transport: TransportProtocol;
  /** TLS: name the PBX certificate is verified against (SNI). Default: host. */
  readonly serverName?: string;
  /** Our address toward the trunk (Via/Contact), when the listening address is unspecified (0.0.0.0). */
  readonly localAddress?: string;
  readonly domain?: string;
  readonly numberFormat?: NumberFormat;
  /** Answer 401/407 on requests to the trunk with these. */
  readonly auth?: TrunkCredentialsConfig;
  /** REGISTER to the PBX (uses `auth` for the challenge). */
  readonly register?: {
    readonly enabled: boolean;
    /** Requested expiry, seconds (default 600); refreshed before it runs out. */
    readonly expiresSec?: number;
    /** User part of the AOR and Contact (default: auth.username). */
    readonly user?: string;
  };
  readonly inbound?: {
    readonly addresses?: readonly string[];
    /** Challenge the PBX's requests; it must authenticate as this user (RFC 3261 §22.4). */
    readonly auth?: TrunkCredentialsConfig;
  };
  readonly media?: {
    readonly srtp?: boolean;
    readonly codecs?: readonly string[];
    readonly telephoneEvent?: boolean;
  };
  readonly keepAlive?: {
    /** OPTIONS every N seconds (0: off, status stays `unknown`). Default 30. */
    readonly intervalSec?: number;
    /** Consecutive failures before `down`. Default 3. */
    readonly failures?: number;
  };
}

/** The `trunks` configuration is inconsistent (duplicate name, missing credentials...). */
export class TrunkConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrunkConfigError';
  }
}

/** A Trunk that this TrunkService did not hand out (a programming error in the caller). */
export class UnknownTrunkError extends Error {
  constructor(readonly trunkName: string) {
    super(`unknown trunk ${JSON.stringify(trunkName)}`);
    this.name = 'UnknownTrunkError';
  }
}
