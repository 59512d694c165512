/**
 * What the admin API (and the CLI) shows of accounts and registrations. Built field by field from
 * the records, so a secret added to a record later cannot leak through a spread. Times are
 * RFC 3339 / ISO 8601 UTC strings.
 */
import type { UserDetails, User } from '../users';
import type { RegistrationBinding, UserState } from '../../store/types';

export interface UserView {
  readonly name: string;
  readonly number?: string;
  readonly displayName?: string;
  readonly state: UserState;
  readonly mayCallOffNet: boolean;
  readonly mayCallInternational: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface UserDetailsView extends UserView {
  readonly hasPassword: boolean;
  readonly otpPending: boolean;
  readonly otpExpiresAt?: string;
  readonly certificates: readonly string[];
}

export interface RegistrationView {
  readonly aor: string;
  readonly contact: string;
  readonly user: string;
  readonly expiresAt: string;
  readonly transport: string;
  /** "address:port" ("[v6]:port") the REGISTER came from. */
  readonly source: string;
  readonly instanceId?: string;
  readonly regId?: number;
  readonly userAgent?: string;
  readonly registeredAt: string;
}

export interface OtpView {
  readonly user: string;
  /** Shown once. */
  readonly otp: string;
  readonly expiresAt: string;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function userView(u: User): UserView {
  return {
    name: u.name,
    ...(u.number !== undefined && { number: u.number }),
    ...(u.displayName !== undefined && { displayName: u.displayName }),
    state: u.state,
    mayCallOffNet: u.mayCallOffNet,
    mayCallInternational: u.mayCallInternational,
    createdAt: iso(u.createdAt),
    updatedAt: iso(u.updatedAt),
  };
}

export function userDetailsView(d: UserDetails): UserDetailsView {
  return {
    ...userView(d),
    hasPassword: d.hasPassword,
    otpPending: d.otpPending,
    ...(d.otpExpiresAt !== undefined && { otpExpiresAt: iso(d.otpExpiresAt) }),
    certificates: [...d.certificates],
  };
}

export function registrationView(b: RegistrationBinding): RegistrationView {
  const host = b.remoteAddress.includes(':') ? `[${b.remoteAddress}]` : b.remoteAddress;
  return {
    aor: b.aor,
    contact: b.contact,
    user: b.user,
    expiresAt: iso(b.expiresAt),
    transport: b.transport,
    source: `${host}:${b.remotePort}`,
    ...(b.instanceId !== undefined && { instanceId: b.instanceId }),
    ...(b.regId !== undefined && { regId: b.regId }),
    ...(b.userAgent !== undefined && { userAgent: b.userAgent }),
    registeredAt: iso(b.registeredAt),
  };
}
