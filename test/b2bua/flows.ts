/** Call flows the B2BUA tests share, written with SipUa (every wait bounded). */
import { tagOf, type SipRequest, type SipResponse } from '../../gateway/sip/message/message';
import { rtpSdp, srtpAnswer, srtpSdp, uacDialog, uasDialog, type SipUa } from './sip-ua';

export type DialogOf = ReturnType<typeof uacDialog>;

export interface Established {
  /** The caller's INVITE (as sent last, after the 407) and the 2xx it got. */
  readonly invite: SipRequest;
  readonly ok: SipResponse;
  /** The INVITE the callee device received. */
  readonly inbound: SipRequest;
  /** The caller's and the callee's view of their dialogs with the gateway. */
  readonly caller: DialogOf;
  readonly callee: DialogOf;
  /** Next CSeq each side uses in its dialog. */
  cseq: { caller: number; callee: number };
}

/** Offers to `uri`, lets `callee` answer 200 (SDES answer, or plain RTP for a trunk), ACKs. */
export async function establish(caller: SipUa, callee: SipUa, uri: string, o: { headers?: Array<[string, string]>; calleeHeaders?: Array<[string, string]>; callerSdp?: string; plain?: boolean } = {}): Promise<Established> {
  const invite = caller.request('INVITE', uri, { sdp: o.callerSdp ?? (caller.protocol === 'UDP' ? rtpSdp(30100) : srtpSdp(30000)), headers: o.headers ?? [] });
  const final = caller.transact(invite, 8000);
  const inbound = await callee.waitRequest('INVITE', 5000);
  const offer = inbound.body.toString();
  const answer = o.plain === true || callee.protocol === 'UDP' ? rtpSdp(30200) : srtpAnswer(offer, 30300);
  callee.respond(inbound, 200, 'OK', { sdp: answer, headers: o.calleeHeaders ?? [] });
  const ok = await final;
  if (ok.status !== 200) throw new Error(`call got ${ok.status} ${ok.reason}`);
  const cd = uacDialog(invite, ok);
  caller.send(caller.inDialog('ACK', cd, invite.cseq.seq));
  await callee.waitRequest('ACK', 3000, (a) => a.callId === inbound.callId);
  return { invite, ok, inbound, caller: cd, callee: uasDialog(inbound, callee.tag), cseq: { caller: invite.cseq.seq + 1, callee: 1 } };
}

/** The caller hangs up and waits for its 200. */
export async function hangup(caller: SipUa, e: Established): Promise<SipResponse> {
  const bye = caller.inDialog('BYE', e.caller, e.cseq.caller++);
  caller.send(bye);
  return caller.finalFor(bye, 3000);
}

export function toTagOf(m: SipRequest | SipResponse): string | undefined {
  return tagOf(m.to);
}

export async function waitFor(cond: () => boolean, ms: number, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
