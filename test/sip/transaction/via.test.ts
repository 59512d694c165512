import assert from 'node:assert/strict';
import type { ReceivedInfo } from '../../../gateway/sip/transport/types';
import { responseTarget, stampReceived } from '../../../gateway/sip/transaction/via';
import { request, TCP_INFO, UDP_INFO } from './helpers';

const from = (address: string, port: number, protocol: ReceivedInfo['protocol'] = 'UDP'): ReceivedInfo => ({
  protocol,
  remote: { address, port },
  local: { address: '192.0.2.1', port: 5060 },
});

describe('RFC 3261 §18.2.1 / RFC 3581 §4 stamping the top Via', () => {
  it('it MUST add received when sent-by is a name', () => {
    const req = request({ viaHost: 'pc.example.com' });
    stampReceived(req, UDP_INFO);
    assert.equal(req.via[0].params.get('received'), '192.0.2.10');
  });

  it('it adds no received when sent-by is the source address, and drops a forged one', () => {
    const req = request({ viaHost: '192.0.2.10' });
    req.via[0].params.set('received', '203.0.113.66');
    stampReceived(req, UDP_INFO);
    assert.equal(req.via[0].params.has('received'), false);
  });

  it('it compares IPv6 sent-by and source in canonical form; received carries no brackets (RFC 5118)', () => {
    const same = request({ viaHost: '[2001:DB8:0:0::1]' });
    stampReceived(same, from('2001:db8::1', 5060));
    assert.equal(same.via[0].params.has('received'), false);
    const other = request({ viaHost: '[2001:db8::1]' });
    stampReceived(other, from('2001:db8::2', 5060));
    assert.equal(other.via[0].params.get('received'), '2001:db8::2');
  });

  it('rport: it MUST fill in the source port and always add received (RFC 3581 §4)', () => {
    const req = request({ viaHost: '192.0.2.10', rport: true });
    stampReceived(req, from('192.0.2.10', 61000));
    assert.equal(req.via[0].params.get('rport'), '61000');
    assert.equal(req.via[0].params.get('received'), '192.0.2.10');
    const forged = request({ viaHost: '192.0.2.10' });
    forged.via[0].params.set('rport', '9');
    stampReceived(forged, from('192.0.2.10', 61000));
    assert.equal(forged.via[0].params.get('rport'), '61000', 'a value from the wire is replaced');
  });
});

describe('RFC 3261 §18.2.2 / RFC 3581 §4 where responses go', () => {
  it('UDP: the source address at the sent-by port (5060 by default), sent from the local address reached', () => {
    const req = request({ viaHost: 'pc.example.com', viaPort: 5070 });
    stampReceived(req, from('192.0.2.10', 61000));
    assert.deepEqual(responseTarget(req, from('192.0.2.10', 61000)), {
      protocol: 'UDP',
      remote: { address: '192.0.2.10', port: 5070 },
      local: { address: '192.0.2.1', port: 5060 },
    });
    const noPort = request({ viaHost: '192.0.2.10' });
    assert.equal(responseTarget(noPort, from('192.0.2.10', 61000)).remote.port, 5060);
  });

  it('UDP with rport: the source address and port', () => {
    const req = request({ viaHost: '10.0.0.5', viaPort: 5060, rport: true });
    stampReceived(req, from('198.51.100.7', 40123));
    assert.deepEqual(responseTarget(req, from('198.51.100.7', 40123)).remote, { address: '198.51.100.7', port: 40123 });
  });

  it('maddr is ignored: no reflection to a third party', () => {
    const req = request({ viaHost: '192.0.2.10' });
    req.via[0].params.set('maddr', '203.0.113.66');
    assert.equal(responseTarget(req, UDP_INFO).remote.address, '192.0.2.10');
  });

  it('TCP/TLS: the connection the request came on, else the source at the sent-by (or default) port', () => {
    const tcp = request({ transport: 'TCP', viaHost: '192.0.2.10', viaPort: 5080 });
    assert.deepEqual(responseTarget(tcp, TCP_INFO), {
      protocol: 'TCP',
      remote: { address: '192.0.2.10', port: 5080 },
      flowId: 'flow-7',
    });
    const tls = request({ transport: 'TLS', viaHost: 'phone.invalid' });
    const target = responseTarget(tls, { ...TCP_INFO, protocol: 'TLS' });
    assert.equal(target.remote.port, 5061);
    assert.equal(target.flowId, 'flow-7');
  });
});
