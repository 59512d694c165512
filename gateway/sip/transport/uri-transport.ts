/**
 * Which transport a SIP or SIPS URI allows (RFC 3261 §19.1.2, §26.2.2; RFC 3263 §4.1; RFC 5630 §3).
 *
 * This is where "sips: means TLS" is decided; `TransportLayer.send` then never lets a TLS target
 * leave over UDP or TCP. Together they give the guarantee that a SIPS hop is never sent in clear.
 */
import type { Params } from '../message/types';
import { TransportError, type TransportProtocol } from './types';

/** The URI parts that decide the transport; a `SipUri` from the message model fits. */
export interface TransportSelectingUri {
  scheme: string;
  params: Params;
}

/** The URI asks for a transport we must not or cannot use. */
export class UnsupportedTransportError extends TransportError {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedTransportError';
  }
}

/**
 * - `sips:` → TLS, whatever the transport parameter says except that UDP is refused: SIPS over UDP
 *   does not exist (RFC 5630 §3.1.3), and `transport=tcp` on a SIPS URI means TLS over TCP.
 * - `sip:;transport=tls` → TLS (the deprecated RFC 3261 §19.1.2 form still means "TLS only").
 * - `sip:;transport=tcp` → TCP, `sip:;transport=udp` or no parameter → UDP (RFC 3263 §4.1 default,
 *   before any NAPTR/SRV lookup, which is the resolver's business).
 * - Any other scheme or transport (sctp, ws, wss) → UnsupportedTransportError.
 */
export function transportForUri(uri: TransportSelectingUri): TransportProtocol {
  const scheme = uri.scheme.toLowerCase();
  const param = uri.params.get('transport');
  if (param === null) throw new UnsupportedTransportError('transport parameter without a value');
  const transport = param?.toLowerCase();
  if (scheme === 'sips') {
    if (transport === undefined || transport === 'tcp' || transport === 'tls') return 'TLS';
    throw new UnsupportedTransportError(`sips: URI with transport=${transport} cannot be secured`);
  }
  if (scheme !== 'sip') throw new UnsupportedTransportError(`${scheme}: URI has no SIP transport`);
  switch (transport) {
    case 'tls':
      return 'TLS';
    case 'tcp':
      return 'TCP';
    case 'udp':
    case undefined:
      return 'UDP';
    default:
      throw new UnsupportedTransportError(`transport=${transport} is not supported`);
  }
}
