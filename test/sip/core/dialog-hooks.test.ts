/**
 * The UA core's hand-off to the dialog layer (RFC 3261 §13.3.1.4 ACK for 2xx, §9.2 CANCEL) and
 * methods answered but not advertised (REFER refused with 501 stays out of Allow, §20.5).
 */
import assert from 'node:assert/strict';
import { nullLogger } from '../../../gateway/log/logger';
import { UaCore } from '../../../gateway/sip/core/ua-core';
import { makeResponse, SipRequest } from '../../../gateway/sip/message/message';
import type { InviteServerTransaction } from '../../../gateway/sip/transaction/server-invite';
import type { ReceivedInfo } from '../../../gateway/sip/transport/types';

const info: ReceivedInfo = { protocol: 'UDP', remote: { address: '192.0.2.1', port: 5060 }, local: { address: '192.0.2.2', port: 5060 } };

function request(method: string): SipRequest {
  return new SipRequest({
    method,
    uri: { scheme: 'sip', user: 'bob', host: 'example.com', params: new Map(), headers: new Map() },
    via: [{ protocol: 'SIP/2.0', transport: 'UDP', host: '192.0.2.1', params: new Map([['branch', 'z9hG4bK1']]) }],
    from: { uri: { scheme: 'sip', user: 'a', host: 'example.com', params: new Map(), headers: new Map() }, params: new Map([['tag', '1']]) },
    to: { uri: { scheme: 'sip', user: 'bob', host: 'example.com', params: new Map(), headers: new Map() }, params: new Map([['tag', '2']]) },
    callId: 'c',
    cseq: { seq: 1, method },
    maxForwards: 70,
  });
}

describe('UA core: dialog hooks (RFC 3261 §9.2, §13.3.1.4)', () => {
  it('MUST hand ACKs for 2xx, CANCELs and ACK timeouts to the dialog hooks once installed', () => {
    const core = new UaCore({ log: nullLogger, product: 'test' });
    const seen: string[] = [];
    const ist = {} as InviteServerTransaction;
    core.setDialogHooks({
      ack: (ack) => seen.push(`ack ${ack.callId}`),
      cancel: (_c, tx) => seen.push(`cancel ${tx === ist}`),
      ackTimeout: (res) => seen.push(`timeout ${res.status}`),
    });
    core.onAck(request('ACK'), info);
    core.onCancel(request('CANCEL'), ist, info);
    core.onAckTimeout(makeResponse(request('INVITE'), 200, 'OK'));
    assert.deepEqual(seen, ['ack c', 'cancel true', 'timeout 200']);
  });

  it('MUST answer a CANCELled INVITE with 487 itself when no hooks are installed', () => {
    const core = new UaCore({ log: nullLogger, product: 'test' });
    const answered: InviteServerTransaction[] = [];
    core.transactions = { answerCancelled: (tx: InviteServerTransaction) => answered.push(tx) > 0 } as unknown as UaCore['transactions'];
    const ist = {} as InviteServerTransaction;
    core.onCancel(request('CANCEL'), ist, info);
    assert.deepEqual(answered, [ist]);
  });

  it('MUST keep a handler registered with advertise: false out of Allow', () => {
    const core = new UaCore({ log: nullLogger, product: 'test' });
    core.handle('INVITE', () => undefined);
    core.handle('REFER', () => undefined, { advertise: false });
    assert.ok(core.capabilities.allow.includes('INVITE'));
    assert.equal(core.capabilities.allow.includes('REFER'), false);
    core.handle('REFER', () => undefined);
    assert.ok(core.capabilities.allow.includes('REFER'), 'registering again with advertising restores it');
  });
});
