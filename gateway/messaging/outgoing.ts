/**
 * A MESSAGE from the gateway to one device (RFC 3428 §4, RFC 3261 §8.1.1): a new request in a
 * new non-INVITE client transaction (§17.1.2), sent over the flow the device registered
 * (registrar `targetFor`, RFC 5626 §5.3).
 *
 * The gateway speaks for the sender: From is the sender's AOR with the account's display name (a
 * display name typed by the sender could impersonate anyone), To is what the sender addressed (the
 * recipient's AOR, or the group's URI), and nothing of the sender's own request travels on except
 * Content-Type and body: no Via, Contact, User-Agent or Call-ID of the sender reaches the recipient.
 * A stored message carries Date (RFC 3261 §20.17) with the time it arrived.
 */
import type { Binding } from '../registrar/types';
import { parseUri } from '../sip/message/grammar';
import { HeaderList, SipRequest } from '../sip/message/message';
import type { SipUri, Uri } from '../sip/message/types';
import type { TransactionLayer } from '../sip/transaction/manager';
import type { SendTarget } from '../sip/transport/types';
import { CONFIDENTIAL_HEADER } from './content';
import { RandomPool } from './random';

export interface OutgoingMessage {
  readonly sender: string;
  readonly senderDisplay: string;
  /** The URI the sender addressed (text). */
  readonly target: string;
  readonly contentType: string;
  readonly body: Buffer;
  /** Arrival time of a stored message (Date header). */
  readonly storedAt?: number;
  readonly confidential: boolean;
}

/** The final status of one attempt; 408 when the device did not answer within the timeout. */
export interface Attempt {
  readonly status: number;
  /** Resolves with the final status of a transaction that outlived the timeout (never for others). */
  readonly late?: Promise<number>;
}

export interface DeviceSenderOptions {
  readonly transactions: Pick<TransactionLayer, 'sendNonInvite'>;
  readonly targetFor: (b: Binding) => SendTarget;
  /** sip.domain: the host of AORs, and the Via host when the binding does not know its local address. */
  readonly domain: string;
}

/** Most To URIs kept parsed (AORs of users and groups); beyond it the cache starts over. */
const MAX_PARSED_TARGETS = 10_000;

export class DeviceSender {
  private readonly random = new RandomPool();
  private readonly targets = new Map<string, Uri>();

  constructor(private readonly o: DeviceSenderOptions) {}

  /** The sender's AOR as a URI (RFC 3261 §10.3 canonical form sip:user@domain). */
  aorUri(user: string): SipUri {
    return { scheme: 'sip', user, host: this.o.domain, params: new Map(), headers: new Map() };
  }

  build(binding: Binding, m: OutgoingMessage): SipRequest {
    const headers = new HeaderList();
    headers.add('Content-Type', m.contentType);
    if (m.storedAt !== undefined) headers.add('Date', new Date(m.storedAt).toUTCString());
    if (m.confidential) headers.add(CONFIDENTIAL_HEADER, '1');
    const local = binding.localAddress;
    const host = local === undefined ? this.o.domain : local.includes(':') ? `[${local}]` : local;
    return new SipRequest({
      method: 'MESSAGE',
      uri: binding.uri,
      via: [{
        protocol: 'SIP/2.0',
        transport: binding.transport,
        host,
        ...(local !== undefined && binding.localPort !== undefined && { port: binding.localPort }),
        params: new Map([['branch', this.random.branch()]]),
      }],
      from: {
        ...(m.senderDisplay !== '' && { displayName: m.senderDisplay }),
        uri: this.aorUri(m.sender),
        params: new Map([['tag', this.random.tag()]]),
      },
      to: { uri: this.targetUri(m.target), params: new Map() },
      callId: this.random.callId(),
      cseq: { seq: 1, method: 'MESSAGE' },
      maxForwards: 70,
      headers,
      body: m.body,
    });
  }

  /** The parsed To URI (read-only once built: the serializer never changes a URI). */
  private targetUri(target: string): Uri {
    let uri = this.targets.get(target);
    if (uri === undefined) {
      if (this.targets.size >= MAX_PARSED_TARGETS) this.targets.clear();
      uri = parseUri(target);
      this.targets.set(target, uri);
    }
    return uri;
  }

  /**
   * Sends and resolves with the final status: the device's, 503 for a transport error (§8.1.3.1),
   * 408 for Timer F, or 408 at `timeoutMs` with `late` following the real answer.
   */
  send(binding: Binding, m: OutgoingMessage, timeoutMs: number): Promise<Attempt> {
    return new Promise((resolve) => {
      let settled = false;
      let lateResolve: ((status: number) => void) | undefined;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        resolve({ status: 408, late: new Promise<number>((r) => (lateResolve = r)) });
      }, timeoutMs);
      timer.unref();
      const final = (status: number): void => {
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          resolve({ status });
        } else {
          lateResolve?.(status);
        }
      };
      try {
        this.o.transactions.sendNonInvite(this.build(binding, m), this.o.targetFor(binding), {
          onResponse: (res) => {
            if (res.status >= 200) final(res.status);
          },
        });
      } catch {
        // Transaction table full or layer closed: nothing was sent; try again later.
        final(503);
      }
    });
  }
}
