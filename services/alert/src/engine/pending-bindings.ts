import { z } from 'zod';
import { auditRecordSchema, type AuditRecord } from '@kaudit/audit-schema';
import { KauditError } from '@kaudit/errors';
import { roleRefKeyOf, type RoleFacts } from '../rules/role-fact.js';

interface Held {
  record: AuditRecord;
  roleKey: string;
  /** Past this (ms, on the caller's clock) an unresolved binding is simply to a role not known powerful. */
  untilMs: number;
}

const heldSchema = z.object({ version: z.literal(1), held: z.array(z.object({ record: auditRecordSchema, roleKey: z.string(), untilMs: z.number() })) });

/**
 * Bindings to a role not (yet) known powerful, held for a grace period (issue 15 §2): the role's
 * fact comes from its own write, which another partition — maybe another process — may handle
 * after the binding. Checked again whenever facts may have changed; a role known powerful wins over
 * an expired grace, so a binding restored after a restart still fires if its role became known.
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

  toBuffer(): Buffer {
    return Buffer.from(JSON.stringify({ version: 1, held: [...this.#held.values()] }));
  }

  /** Parses what toBuffer wrote; throws INPUT_INVALID naming the problem (never trusts stored state). */
  static fromBuffer(buf: Buffer): PendingBindings {
    let parsed: z.infer<typeof heldSchema>;
    try {
      parsed = heldSchema.parse(JSON.parse(buf.toString('utf8')));
    } catch (cause) {
      throw new KauditError('INPUT_INVALID', 'pending bindings state is unreadable', { cause });
    }
    const out = new PendingBindings();
    for (const h of parsed.held) out.#held.set(`${h.record.cluster}\u001f${h.record.auditID}`, h);
    return out;
  }
}
