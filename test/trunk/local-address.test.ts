/** Our address toward a trunk: Via sent-by and Contact (RFC 3261 §18.1.1, §8.1.1.8). */
import assert from 'node:assert/strict';
import { localEndpointFor } from '../../gateway/trunk/local-address';
import { TrunkConfigError } from '../../gateway/trunk/types';
import type { ListeningAddress } from '../../gateway/sip/transport/options';

const trunk = { name: 'pbx', host: '127.0.0.1', transport: 'UDP' as const };

describe('Trunks: our address toward the trunk', () => {
  it('uses the listening address when the socket is bound to one', async () => {
    const listening: ListeningAddress[] = [{ protocol: 'UDP', family: 'IPv4', address: '127.0.0.1', port: 5070 }];
    assert.deepEqual(await localEndpointFor(trunk, listening), { address: '127.0.0.1', port: 5070 });
  });

  it('asks the OS for the source address toward the trunk when listening on 0.0.0.0 (never writes 0.0.0.0)', async () => {
    const listening: ListeningAddress[] = [{ protocol: 'UDP', family: 'IPv4', address: '0.0.0.0', port: 5060 }];
    assert.deepEqual(await localEndpointFor(trunk, listening), { address: '127.0.0.1', port: 5060 });
  });

  it('prefers the configured localAddress', async () => {
    const listening: ListeningAddress[] = [{ protocol: 'UDP', family: 'IPv4', address: '0.0.0.0', port: 5060 }];
    assert.deepEqual(await localEndpointFor({ ...trunk, localAddress: '192.0.2.1' }, listening), { address: '192.0.2.1', port: 5060 });
  });

  it('refuses a trunk whose transport the gateway does not listen on', async () => {
    const listening: ListeningAddress[] = [{ protocol: 'UDP', family: 'IPv4', address: '127.0.0.1', port: 5060 }];
    await assert.rejects(localEndpointFor({ ...trunk, transport: 'TLS' }, listening), TrunkConfigError);
  });
});
