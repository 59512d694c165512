/**
 * baresip 1.0.0 (Debian) as a real SIP-over-TLS client of the gateway (test/helpers/baresip.ts
 * drives the process): an `accounts` line per work/shared/PEERS.md (digest, RFC 5626 outbound).
 * With a `contact` it is a messaging peer too: the contact module's `message` command
 * ("/message TEXT") sends a SIP MESSAGE to that contact, and a received MESSAGE is printed by the
 * menu module (through stdio) as `<from uri>: "<text>"`.
 */
import type { ChildProcess } from 'node:child_process';
import { BaresipProcess, type BaresipSetup } from '../../helpers/baresip';

export type { BaresipEvent } from '../../helpers/baresip';

export interface BaresipOptions {
  user: string;
  password: string;
  /** The gateway's TLS listener. */
  gatewayPort: number;
  /** Registration interval asked for (seconds). Default 600. */
  regint?: number;
  /** RFC 5626 outbound (sipnat=outbound: +sip.instance, reg-id, keep-alives, flow recovery). Default true. */
  outbound?: boolean;
  /** The contact `message` sends to, e.g. sip:bob@127.0.0.1. */
  contact?: string;
}

/** The `accounts` line of PEERS.md for a TLS client of the gateway. */
export function accountLine(o: BaresipOptions): string {
  const gw = `127.0.0.1:${o.gatewayPort}`;
  return `<sip:${o.user}@${gw};transport=tls>;auth_pass=${o.password};outbound="sip:${gw};transport=tls";` +
    `regint=${o.regint ?? 600}${o.outbound === false ? '' : ';sipnat=outbound'}`;
}

export class Baresip extends BaresipProcess {
  private constructor(readonly options: BaresipOptions, setup: BaresipSetup, dir: string, sipPort: number, child: ChildProcess) {
    super(setup, dir, sipPort, child);
  }

  static start(o: BaresipOptions): Promise<Baresip> {
    const setup: BaresipSetup = {
      name: o.user,
      account: () => accountLine(o),
      ...(o.contact !== undefined && {
        contacts: `"peer" <${o.contact}>\n`,
        // The menu prints a received MESSAGE through the UI modules: stdio makes it reach stdout.
        modules: ['stdio.so'],
        appModules: ['contact.so'],
      }),
    };
    return Baresip.launch(setup, (...spawned) => new Baresip(o, setup, ...spawned));
  }

  /** The account's AOR as baresip names it in events. */
  get aor(): string {
    return `sip:${this.options.user}@127.0.0.1:${this.options.gatewayPort}`;
  }

  /**
   * Registers again now: baresip 1.0 has no re-register command, so the user agent is deleted and
   * created anew from the same account line (a new REGISTER with the same credentials).
   */
  reRegister(): void {
    this.command('uadel', this.aor);
    this.command('uanew', accountLine(this.options));
  }

  /** Sends a SIP MESSAGE with `text` to the configured contact. */
  message(text: string): void {
    this.command('message', text);
  }
}
