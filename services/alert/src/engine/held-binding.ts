import { z } from 'zod';
import { auditRecordSchema, type AuditRecord } from '@kaudit/audit-schema';
import { roleRefKeyOf, type RoleFacts } from '../rules/role-fact.js';

/**
 * A binding held for its role's fact (issue 15 §2), one state-topic entry per binding: the fact
 * comes from the role's own write, which another partition — maybe another process — may read
 * after the binding. One entry per binding (not one per partition) so any process can release one
 * without rewriting entries others are adding to.
 */
export interface HeldBinding {
  record: AuditRecord;
  roleKey: string;
  /** Wall clock (ms): past it an unresolved binding is simply to a role not known powerful. */
  untilMs: number;
}

/** Key prefix of held bindings in the alert state topic, beside window checkpoints and role facts. */
export const HELD_BINDING_PREFIX = 'role-held:';

const heldBindingSchema = z.object({ record: auditRecordSchema, roleKey: z.string(), untilMs: z.number() });

/**
 * The entry holding `record` when it is a successful binding whose role is not known powerful
 * now, else undefined. Keyed by cluster and auditID: a batch read again after a crash holds it once.
 */
export function heldBindingEntry(record: AuditRecord, facts: RoleFacts, untilMs: number): { key: string; value: Buffer } | undefined {
  const roleKey = roleRefKeyOf(record);
  if (roleKey === undefined || facts.isPowerful(roleKey)) return undefined;
  const held: HeldBinding = { record, roleKey, untilMs };
  return { key: `${HELD_BINDING_PREFIX}${record.cluster}/${record.auditID}`, value: Buffer.from(JSON.stringify(held)) };
}

/** What heldBindingEntry wrote, or undefined when it does not parse (stored state is never trusted). */
export function parseHeldBinding(value: Buffer): HeldBinding | undefined {
  try {
    const parsed = heldBindingSchema.safeParse(JSON.parse(value.toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
