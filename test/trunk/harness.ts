/**
 * A TrunkManager over a real transaction layer driven by a FakeClock, with a sender that records
 * what would go on the wire. Tests answer recorded requests as the PBX would.
 */
import { makeResponse, type SipRequest, type SipResponse } from '../../gateway/sip/message/message';
import { FakeClock } from '../../gateway/sip/transaction/clock';
import { newTag } from '../../gateway/sip/transaction/ids';
import { TransactionLayer } from '../../gateway/sip/transaction/manager';
import type { ReceivedInfo } from '../../gateway/sip/transport/types';
import { TrunkManager } from '../../gateway/trunk/manager';
import type { TrunkConfig } from '../../gateway/trunk/types';
import { RecordingSender } from '../sip/transaction/helpers';

export const LOCAL = { address: '127.0.0.1', port: 5070 };
export const FR = { countryCode: '33', nationalPrefix: '0', internationalPrefix: '00' };

export interface Harness {
  clock: FakeClock;
  sender: RecordingSender;
  transactions: TransactionLayer;
  manager: TrunkManager;
  /** Requests sent so far, optionally of one method. */
  sent(method?: string): SipRequest[];
  /** Answers a sent request as the PBX would (the transaction layer matches it). */
  answer(request: SipRequest, status: number, reason?: string, edit?: (r: SipResponse) => void): SipResponse;
  /** Lets promise callbacks run (probes resolve through them). */
  settle(): Promise<void>;
}

export function harness(trunks: TrunkConfig[], keepAliveTimeoutMs?: number): Harness {
  const clock = new FakeClock(1_000_000);
  const sender = new RecordingSender(clock);
  const transactions = new TransactionLayer(sender, { onRequest: () => undefined, onAck: () => undefined, onCancel: () => undefined }, { clock });
  const manager = new TrunkManager({
    trunks,
    transactions,
    localFor: () => LOCAL,
    numbering: FR,
    realm: 'gw.example',
    userAgent: 'Ciphergate/test',
    clock,
    unregisterWaitMs: 20,
    ...(keepAliveTimeoutMs !== undefined && { keepAliveTimeoutMs }),
  });
  const info = (r: SipRequest): ReceivedInfo => {
    const target = sender.sent.find((s) => s.msg === r)?.target;
    return { protocol: 'UDP', remote: target?.remote ?? { address: '127.0.0.1', port: 5060 }, local: LOCAL };
  };
  return {
    clock,
    sender,
    transactions,
    manager,
    sent: (method) => sender.requests(method).map((s) => s.msg as SipRequest),
    answer(request, status, reason = 'OK', edit) {
      const res = makeResponse(request, status, reason, newTag());
      edit?.(res);
      transactions.receiveResponse(res, info(request));
      return res;
    },
    async settle() {
      for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
    },
  };
}

export function udpTrunk(name: string, fields: Partial<TrunkConfig> = {}): TrunkConfig {
  return { name, host: '127.0.0.1', port: 5090, transport: 'UDP', ...fields };
}
