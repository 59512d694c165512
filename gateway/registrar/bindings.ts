/**
 * The registrar's bindings in memory: by AOR (for §10.3 processing and `locate`) and by flow (for
 * RFC 5626 §5.3: when a connection closes, the bindings on it become unreachable at once).
 *
 * Memory is the authority while the gateway runs; the store (persistence.ts) is the copy that
 * survives a restart.
 */
import type { Binding } from './types';

export interface BindingEntry {
  binding: Binding;
  /** expiresAt of the copy last handed to the store (to decide when a refresh is worth a write). */
  persistedExpiresAt: number;
}

function flowKey(aor: string, contact: string): string {
  return `${aor}\0${contact}`;
}

export class BindingTable {
  private readonly byAor = new Map<string, Map<string, BindingEntry>>();
  /** flowId → keys (aor \0 contact) of the bindings registered over it. */
  private readonly byFlow = new Map<string, Set<string>>();
  private count = 0;

  /** Number of bindings (expired ones included until swept). */
  get size(): number {
    return this.count;
  }

  /** Number of AORs with at least one binding. */
  get aorCount(): number {
    return this.byAor.size;
  }

  entries(aor: string): BindingEntry[] {
    const m = this.byAor.get(aor);
    return m === undefined ? [] : [...m.values()];
  }

  get(aor: string, contact: string): BindingEntry | undefined {
    return this.byAor.get(aor)?.get(contact);
  }

  aors(): IterableIterator<string> {
    return this.byAor.keys();
  }

  /** Inserts or replaces the binding for (aor, contact), keeping the flow index right. */
  set(binding: Binding, persistedExpiresAt: number): BindingEntry {
    let m = this.byAor.get(binding.aor);
    if (m === undefined) {
      m = new Map();
      this.byAor.set(binding.aor, m);
    }
    const old = m.get(binding.contact);
    if (old === undefined) this.count++;
    else if (old.binding.flowId !== binding.flowId) this.unindex(old.binding);
    const entry: BindingEntry = { binding, persistedExpiresAt };
    m.set(binding.contact, entry);
    if (binding.flowId !== undefined && binding.reachable) {
      let keys = this.byFlow.get(binding.flowId);
      if (keys === undefined) {
        keys = new Set();
        this.byFlow.set(binding.flowId, keys);
      }
      keys.add(flowKey(binding.aor, binding.contact));
    }
    return entry;
  }

  delete(aor: string, contact: string): BindingEntry | undefined {
    const m = this.byAor.get(aor);
    const old = m?.get(contact);
    if (m === undefined || old === undefined) return undefined;
    m.delete(contact);
    if (m.size === 0) this.byAor.delete(aor);
    this.count--;
    this.unindex(old.binding);
    return old;
  }

  /**
   * The bindings registered over `flowId`, and forgets that flow (it is called when the flow
   * closed; nothing is ever registered over a closed flow again).
   */
  takeFlow(flowId: string): BindingEntry[] {
    const keys = this.byFlow.get(flowId);
    if (keys === undefined) return [];
    this.byFlow.delete(flowId);
    const out: BindingEntry[] = [];
    for (const k of keys) {
      const sep = k.indexOf('\0');
      const e = this.get(k.slice(0, sep), k.slice(sep + 1));
      if (e !== undefined && e.binding.flowId === flowId) out.push(e);
    }
    return out;
  }

  /** The users with bindings on `flowId`. */
  usersOnFlow(flowId: string): Set<string> {
    const users = new Set<string>();
    for (const k of this.byFlow.get(flowId) ?? []) {
      const sep = k.indexOf('\0');
      const e = this.get(k.slice(0, sep), k.slice(sep + 1));
      if (e !== undefined) users.add(e.binding.user);
    }
    return users;
  }

  private unindex(b: Binding): void {
    if (b.flowId === undefined) return;
    const keys = this.byFlow.get(b.flowId);
    if (keys === undefined) return;
    keys.delete(flowKey(b.aor, b.contact));
    if (keys.size === 0) this.byFlow.delete(b.flowId);
  }
}
