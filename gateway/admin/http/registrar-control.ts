/**
 * What account administration needs from the registrar (gateway/registrar/): to drop a user's
 * live registrations at once when the account is blocked, loses its keys or is removed, and to
 * list registrations. Defined here so the admin API does not depend on the registrar's module;
 * the registrar provides an object of this shape.
 */
import type { RegistrationBinding, RegistrationStore } from '../../store/types';

export interface RegistrarControl {
  /**
   * Removes every registration of the user (RFC 3261 §10.3 bindings) and closes the flows they
   * were registered over (RFC 5626 §5.2), so nothing reaches the user any more.
   */
  blockUser(name: string): Promise<void>;
  /** Current bindings, of one AOR or all. */
  registrations(aor?: string): Promise<readonly RegistrationBinding[]>;
}

/**
 * The fallback without a running registrar (a stopped gateway, or one started without it):
 * works on the store only. It cannot close connections; a running registrar must be preferred.
 */
export function storeRegistrarControl(registrations: RegistrationStore): RegistrarControl {
  return {
    async blockUser(name: string): Promise<void> {
      for (const b of await registrations.list()) {
        if (b.user === name) await registrations.remove(b.aor, b.contact);
      }
    },
    registrations: (aor?: string) => registrations.list(aor),
  };
}
