import assert from 'node:assert/strict';
import { HeaderList, SipRequest } from '../../../gateway/sip/message/message';
import type { Uri } from '../../../gateway/sip/message/types';
import { inspectRequest } from '../../../gateway/sip/core/inspection';

const caps = { allow: ['OPTIONS', 'INVITE', 'ACK', 'CANCEL', 'BYE'], supported: ['timer'] };

function request(method: string, headers: Array<[string, string]> = [], body = '', uri?: Uri): SipRequest {
  const h = new HeaderList();
  for (const [n, v] of headers) h.add(n, v);
  return new SipRequest({
    method,
    uri: uri ?? { scheme: 'sip', user: 'bob', host: 'example.com', params: new Map(), headers: new Map() },
    via: [{ protocol: 'SIP/2.0', transport: 'UDP', host: '192.0.2.1', params: new Map([['branch', 'z9hG4bK1']]) }],
    from: { uri: { scheme: 'sip', user: 'a', host: 'example.com', params: new Map(), headers: new Map() }, params: new Map([['tag', '1']]) },
    to: { uri: { scheme: 'sip', user: 'bob', host: 'example.com', params: new Map(), headers: new Map() }, params: new Map() },
    callId: 'c',
    cseq: { seq: 1, method },
    maxForwards: 70,
    headers: h,
    body: Buffer.from(body),
  });
}

describe('RFC 3261 §8.2 UAS request inspection', () => {
  it('§8.2.1: an unknown method gets 501 with Allow', () => {
    const r = inspectRequest(request('NEWMETHOD'), caps);
    assert.equal(r?.status, 501);
    assert.deepEqual(r?.headers, [['Allow', caps.allow.join(', ')]]);
  });

  it('§8.2.2.1: an unknown Request-URI scheme gets 416', () => {
    const r = inspectRequest(request('OPTIONS', [], '', { scheme: 'nobodyknowsthisscheme', opaque: 'x' }), caps);
    assert.equal(r?.status, 416);
  });

  it('accepts tel: Request-URIs (RFC 3966)', () => {
    assert.equal(inspectRequest(request('OPTIONS', [], '', { scheme: 'tel', number: '+34911234567', params: new Map() }), caps), undefined);
  });

  it('§16.3: Max-Forwards 0 gets 483 for what would be forwarded, not for OPTIONS answered here', () => {
    const inv = request('INVITE');
    inv.maxForwards = 0;
    assert.equal(inspectRequest(inv, caps)?.status, 483);
    const opt = request('OPTIONS');
    opt.maxForwards = 0;
    assert.equal(inspectRequest(opt, caps), undefined);
  });

  it('§8.2.2.3: unknown Require and Proxy-Require tags get 420 listing each in Unsupported', () => {
    const r = inspectRequest(request('OPTIONS', [['Require', 'timer, nothingSupportsThis'], ['Proxy-Require', 'noProxies']]), caps);
    assert.equal(r?.status, 420);
    assert.deepEqual(r?.headers, [['Unsupported', 'nothingSupportsThis, noProxies']]);
  });

  it('§8.2.2.3: supported Require tags pass', () => {
    assert.equal(inspectRequest(request('OPTIONS', [['Require', 'TIMER']]), caps), undefined);
  });

  it('§8.2.3: an unknown Content-Type gets 415 with Accept', () => {
    const r = inspectRequest(request('INVITE', [['Content-Type', 'application/unknownformat']], 'x'), caps);
    assert.equal(r?.status, 415);
    assert.equal(r?.headers[0][0], 'Accept');
    assert.match(r?.headers[0][1] ?? '', /application\/sdp/);
  });

  it('§8.2.3: an unknown Content-Encoding gets 415 with Accept-Encoding', () => {
    const r = inspectRequest(request('INVITE', [['Content-Type', 'application/sdp'], ['Content-Encoding', 'gzip']], 'v=0'), caps);
    assert.equal(r?.status, 415);
    assert.deepEqual(r?.headers, [['Accept-Encoding', 'identity']]);
  });

  it('RFC 4475 §3.3.15: an INVITE whose Accept rules out SDP gets 406', () => {
    const r = inspectRequest(request('INVITE', [['Accept', 'text/nobodyKnowsThis'], ['Content-Type', 'application/sdp']], 'v=0'), caps);
    assert.equal(r?.status, 406);
    assert.equal(inspectRequest(request('INVITE', [['Accept', 'application/*']]), caps), undefined);
  });

  it('lets ACK and CANCEL through untouched (hop-by-hop, handled by the transaction layer)', () => {
    assert.equal(inspectRequest(request('ACK', [['Require', 'x']]), caps), undefined);
    assert.equal(inspectRequest(request('CANCEL'), caps), undefined);
  });
});
