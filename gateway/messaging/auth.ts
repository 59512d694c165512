/**
 * Authentication of MESSAGE (RFC 3428 §7, RFC 3261 §22.3): the gateway is the proxy of its
 * users' domain, so it challenges with 407 Proxy-Authenticate and reads Proxy-Authorization.
 *
 * It is the registrar's authenticator (registrar/authenticator.ts), reused as it is, so MESSAGE
 * has the same guarantees as REGISTER: the same HA1s and digest server (SHA-256 offered before
 * MD5, nonces bound to the connection), no user enumeration (an unknown user, a wrong password, a
 * blocked and a locked account are one 403 after the same work), failures counted towards the
 * same lockout and source bans, and a device that already registered on this connection is not
 * cut off by a lock an attacker provoked elsewhere.
 */
import type { RegisterAuthenticator } from '../registrar/authenticator';
import { uriEquals } from '../registrar/uri';
import { parseUri } from '../sip/message/grammar';
import { HeaderList, SipRequest } from '../sip/message/message';
import type { ReceivedInfo } from '../sip/transport/types';

export type MessageAuthOutcome =
  | { readonly kind: 'challenge'; readonly headers: Array<[string, string]> }
  | { readonly kind: 'refuse'; readonly status: number; readonly reason: string }
  | { readonly kind: 'ok'; readonly user: string };

export class MessageAuthenticator {
  constructor(private readonly registrarAuth: Pick<RegisterAuthenticator, 'authenticate' | 'challenge'>) {}

  async authenticate(req: SipRequest, info: ReceivedInfo): Promise<MessageAuthOutcome> {
    // The registrar's authenticator reads Authorization; a view of the request carries the
    // Proxy-Authorization values under that name. Method and credentials are all it reads.
    const headers = new HeaderList();
    for (const v of req.headers.getAll('Proxy-Authorization')) headers.add('Authorization', v);
    const view = new SipRequest({ method: req.method, uri: req.uri, via: req.via, from: req.from, to: req.to, callId: req.callId, cseq: req.cseq, headers });
    const auth = await this.registrarAuth.authenticate(view, info);
    switch (auth.kind) {
      case 'challenge': {
        const values = this.registrarAuth.challenge(auth.stale, info, req.headers.get('User-Agent'));
        return { kind: 'challenge', headers: values.map(([, v]) => ['Proxy-Authenticate', v]) };
      }
      case 'bad-request':
        return { kind: 'refuse', status: 400, reason: auth.reason };
      case 'forbidden':
        return { kind: 'refuse', status: 403, reason: 'Forbidden' };
      case 'ok':
        // RFC 7616 §3.4.6: credentials made for another Request-URI were replayed or relayed.
        if (!digestUriMatches(auth.digestUri, req)) return { kind: 'refuse', status: 400, reason: 'Bad Request - Digest URI Mismatch' };
        return { kind: 'ok', user: auth.user };
    }
  }
}

function digestUriMatches(digestUri: string, req: SipRequest): boolean {
  try {
    return uriEquals(parseUri(digestUri), req.uri);
  } catch {
    return false;
  }
}
