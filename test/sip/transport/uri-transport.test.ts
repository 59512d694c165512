import assert from 'node:assert/strict';
import { transportForUri, UnsupportedTransportError } from '../../../gateway/sip/transport/uri-transport';
import { TransportError } from '../../../gateway/sip/transport/types';

function uri(scheme: string, transport?: string | null): { scheme: string; params: Map<string, string | null> } {
  const params = new Map<string, string | null>();
  if (transport !== undefined) params.set('transport', transport);
  return { scheme, params };
}

describe('RFC 3261 §26.2.2 / §19.1.2 transport selection from a URI', () => {
  it('MUST map sips: to TLS, with or without transport=tcp or transport=tls', () => {
    assert.equal(transportForUri(uri('sips')), 'TLS');
    assert.equal(transportForUri(uri('sips', 'tcp')), 'TLS');
    assert.equal(transportForUri(uri('SIPS', 'TLS')), 'TLS');
  });

  it('MUST refuse sips: with transport=udp rather than send it in clear (RFC 5630 §3.1.3)', () => {
    assert.throws(() => transportForUri(uri('sips', 'udp')), UnsupportedTransportError);
    assert.throws(() => transportForUri(uri('sips', 'udp')), TransportError);
  });

  it('MUST map sip:;transport=tls to TLS only', () => {
    assert.equal(transportForUri(uri('sip', 'tls')), 'TLS');
    assert.equal(transportForUri(uri('sip', 'TLS')), 'TLS');
  });

  it('maps sip:;transport=tcp to TCP and sip: with udp or no parameter to UDP (RFC 3263 §4.1)', () => {
    assert.equal(transportForUri(uri('sip', 'tcp')), 'TCP');
    assert.equal(transportForUri(uri('sip', 'udp')), 'UDP');
    assert.equal(transportForUri(uri('sip')), 'UDP');
  });

  it('refuses transports and schemes it cannot carry', () => {
    assert.throws(() => transportForUri(uri('sip', 'sctp')), UnsupportedTransportError);
    assert.throws(() => transportForUri(uri('sip', 'wss')), UnsupportedTransportError);
    assert.throws(() => transportForUri(uri('sip', null)), UnsupportedTransportError);
    assert.throws(() => transportForUri(uri('tel')), UnsupportedTransportError);
  });
});
