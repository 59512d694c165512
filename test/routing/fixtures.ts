/** Fixtures for the routing tests: users, bindings and trunks without a database or network. */
import type { User } from '../../gateway/admin/users';
import type { Binding } from '../../gateway/registrar/types';
import { parseUri } from '../../gateway/sip/message/uri';
import type { SipUri } from '../../gateway/sip/message/types';
import type { Trunk, TrunkStatus } from '../../gateway/trunk/types';

export const DOMAIN = 'gw.example';

export function user(name: string, fields: Partial<User> = {}): User {
  return { name, state: 'active', mayCallOffNet: false, mayCallInternational: false, createdAt: 0, updatedAt: 0, ...fields };
}

export function binding(name: string, contact: string, reachable = true, qMilli?: number): Binding {
  return {
    aor: `sip:${name}@${DOMAIN}`,
    contact,
    uri: parseUri(contact) as SipUri,
    user: name,
    callId: 'c',
    cseq: 1,
    expiresAt: Date.now() + 60_000,
    ...(qMilli !== undefined && { qMilli }),
    transport: 'TLS',
    remoteAddress: '127.0.0.1',
    remotePort: 40000,
    flowId: 'f1',
    path: [],
    registeredAt: 0,
    updatedAt: 0,
    reachable,
  };
}

/** A Trunk stand-in: only what the router and selection read. */
export function trunk(name: string, status: TrunkStatus = 'unknown', numberFormat: Trunk['numberFormat'] = 'e164'): Trunk {
  return {
    name,
    target: { protocol: 'UDP', remote: { address: '192.0.2.1', port: 5060 } },
    transport: 'UDP',
    local: { address: '192.0.2.2', port: 5060 },
    domain: '192.0.2.1',
    numberFormat,
    media: { profile: 'RTP/AVP', codecs: ['PCMA', 'PCMU'], telephoneEvent: true },
    inbound: { addresses: ['192.0.2.1'], digest: false },
    hasCredentials: false,
    status,
    registered: false,
  };
}

/** UserService and Registrar stand-ins over fixed data. */
export class Directory {
  readonly users = new Map<string, User>();
  readonly bindings = new Map<string, Binding[]>();
  lookups = 0;

  add(u: User, ...bs: Binding[]): this {
    this.users.set(u.name, u);
    this.bindings.set(`sip:${u.name}@${DOMAIN}`, bs);
    return this;
  }

  async get(name: string): Promise<User | undefined> {
    this.lookups++;
    return this.users.get(name);
  }

  async getByNumber(e164: string): Promise<User | undefined> {
    this.lookups++;
    return [...this.users.values()].find((u) => u.number === e164);
  }

  aorOf(name: string): string {
    return `sip:${name}@${DOMAIN}`;
  }

  locate(aor: string): Binding[] {
    return this.bindings.get(aor) ?? [];
  }
}
