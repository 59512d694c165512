/**
 * The real gateway (gateway/server.ts) with `trunks`, `routing` and `cdr` from its configuration:
 * the trunk goes up against a PBX stand-in, the router resolves the dial plan to it, CDRs land in
 * the gateway's database.
 */
import assert from 'node:assert/strict';
import { parseUri } from '../../gateway/sip/message/uri';
import type { TrunkRoute } from '../../gateway/routing/types';
import type { Trunk } from '../../gateway/trunk/types';
import { startTestGateway, type TestGateway } from '../helpers/in-process-gateway';
import { TinyPbx } from './tiny-pbx';

describe('Trunks: wired into the running gateway', function () {
  this.timeout(20_000);
  let pbx: TinyPbx;
  let tg: TestGateway | undefined;

  before(async () => {
    pbx = await TinyPbx.start();
    tg = await startTestGateway([
      `trunks=[{name: pbx, host: 127.0.0.1, port: ${pbx.port}, transport: UDP, keepAlive: {intervalSec: 1}}]`,
      'routing.countryCode=34',
      'routing.rules=[{name: all, prefix: "+", trunks: [pbx]}]',
    ]);
  });
  after(async () => {
    await tg?.stop();
    await pbx.close();
  });

  it('probes the configured trunk from the gateway UDP socket and sees it up', async () => {
    const gw = (tg as TestGateway).gw;
    const trunk = gw.trunks.get('pbx') as Trunk;
    for (let i = 0; i < 40 && trunk.status !== 'up'; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(trunk.status, 'up');
    assert.equal(pbx.of('OPTIONS')[0].via[0].port, (tg as TestGateway).port('UDP'));
  });

  it('routes an off-net number of a permitted user to that trunk', async () => {
    const gw = (tg as TestGateway).gw;
    const { user } = await gw.users.add('alice', { password: 'Tr0mbone-Harbour-Lantern!', mayCallOffNet: true });
    const d = await gw.router.route({ caller: user, requestUri: parseUri('sip:911234567@gw') });
    assert.equal(d.kind, 'trunk');
    assert.equal((d as TrunkRoute).number, '+34911234567');
    assert.equal((d as TrunkRoute).trunks[0], gw.trunks.get('pbx'));
  });

  it('writes CDRs to the gateway database', () => {
    const gw = (tg as TestGateway).gw;
    const id = gw.cdrs.sink.start({ direction: 'outbound', caller: 'alice', callee: '+34911234567', trunk: 'pbx' });
    gw.cdrs.sink.end(id, { disposition: 'failed', status: 503 });
    gw.cdrs.flush();
    assert.equal(gw.cdrs.store.list()[0].id, id);
  });
});
