import type { AuditRecord } from '@kaudit/audit-schema';
import { roleRefKeyOf, type RoleFacts } from '../rules/role-fact.js';

interface Held {
  record: AuditRecord;
  roleKey: string;
  /** Past this (ms, on the caller's clock) an unresolved binding is simply to a role not known powerful. */
  untilMs: number;
}

/**
 * `kaudit rules test`'s in-memory stand-in for the held bindings the service keeps in its state
 * topic (see held-binding.ts, AlertEvaluator): bindings to a role not (yet) known powerful, held
 * for a grace period and checked again after every record. A role known powerful wins over an
 * expired grace, as in the service.
 */
export class PendingBindings {
  readonly #held = new Map<string, Held>();

  get size(): number {
    return this.#held.size;
  }

  /**
   * Holds `record` when it is a successful binding whose role is not known powerful now; returns
   * whether it did. Keyed by cluster and auditID, so a batch read again after a crash holds it once.
   */
  holdIfUnresolved(record: AuditRecord, facts: RoleFacts, untilMs: number): boolean {
    const roleKey = roleRefKeyOf(record);
    if (roleKey === undefined || facts.isPowerful(roleKey)) return false;
    const key = `${record.cluster}\u001f${record.auditID}`;
    if (this.#held.has(key)) return false;
    this.#held.set(key, { record, roleKey, untilMs });
    return true;
  }

  /** Removes and returns (in event-time order) bindings whose role is now known powerful; drops expired ones. */
  resolve(facts: RoleFacts, nowMs: number): { ready: AuditRecord[]; expired: number } {
    const ready: AuditRecord[] = [];
    let expired = 0;
    for (const [key, h] of this.#held) {
      if (facts.isPowerful(h.roleKey)) {
        ready.push(h.record);
        this.#held.delete(key);
      } else if (nowMs >= h.untilMs) {
        expired++;
        this.#held.delete(key);
      }
    }
    return { ready: ready.sort((a, b) => a.requestReceivedUs - b.requestReceivedUs), expired };
  }
}
