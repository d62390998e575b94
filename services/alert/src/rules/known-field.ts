import { sampleAuditRecord } from '@kaudit/audit-schema';
import { getField } from './field-path.js';

/** Fields whose keys are data (annotations, user.extra) or whose value may be null as a whole. */
const OPEN_PREFIXES = ['annotations.', 'user.extra.', 'impersonatedUser.'];

/**
 * Whether a path names a field of the canonical record. A typo (`objectRef.resrouce`) would make a
 * condition silently never match, so loading rejects it.
 */
export function isKnownField(path: string): boolean {
  if (OPEN_PREFIXES.some((p) => path.startsWith(p))) return true;
  return getField(sampleAuditRecord(), path) !== undefined;
}
