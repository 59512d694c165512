/** What a test UA knows of its dialogs with the gateway (RFC 3261 §12.1): enough to build requests inside them. */
import { serializeUri } from '../../gateway/sip/message/grammar';
import type { SipRequest, SipResponse } from '../../gateway/sip/message/message';
import type { NameAddr } from '../../gateway/sip/message/types';

export interface DialogView {
  callId: string;
  local: NameAddr;
  remote: NameAddr;
  /** Remote target: the peer's Contact (RFC 3261 §12.1.1, §12.1.2), else the Request-URI. */
  target: string;
}

/** The dialog a UAS-side test UA has after answering `invite` with its tag (§12.1.1). */
export function uasDialog(invite: SipRequest, tag: string): DialogView {
  const contact = invite.contact === undefined || invite.contact === '*' ? undefined : invite.contact[0];
  return {
    callId: invite.callId,
    local: { ...invite.to, params: new Map([['tag', tag]]) },
    remote: invite.from,
    target: contact === undefined ? serializeUri(invite.uri) : serializeUri(contact.uri),
  };
}

/** The dialog a UAC-side test UA has after the 2xx (§12.1.2). */
export function uacDialog(invite: SipRequest, ok: SipResponse): DialogView {
  const contact = ok.contact === undefined || ok.contact === '*' ? undefined : ok.contact[0];
  return { callId: invite.callId, local: invite.from, remote: ok.to, target: contact === undefined ? serializeUri(invite.uri) : serializeUri(contact.uri) };
}
