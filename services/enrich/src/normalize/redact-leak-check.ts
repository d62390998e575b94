import type { AuditRecord } from '@kaudit/audit-schema';
import { REDACTED } from './redact.js';

/** The stub an object becomes when a dropped value is found in it anyway. */
const LEAKED_OBJECT = JSON.stringify({ kauditRedacted: REDACTED });

/**
 * Who and what the request is about, from the request line and the authenticator — never from a
 * body. A dropped value that is (part of) one of these (a ConfigMap value equal to its namespace) is
 * public in the record anyway; hunting it would only blank the record's identity.
 */
function identityOf(record: AuditRecord): string[] {
  const ref = record.objectRef;
  return [record.cluster, ref.namespace, ref.name, ref.uid, ref.resource, ref.apiGroup, record.user.username, record.user.uid, record.impersonatedUser?.username, record.actor.id, record.actor.displayName, record.actor.email].filter(
    (s): s is string => typeof s === 'string' && s !== '',
  );
}

/** Every form a dropped value can take in the record: as is, JSON-escaped (inside object text), base64. */
function needlesOf(removed: ReadonlySet<string>, identity: readonly string[]): string[] {
  const needles = new Set<string>();
  for (const value of removed) {
    needles.add(value);
    needles.add(JSON.stringify(value).slice(1, -1));
    // A stringData value comes back base64 in the response's data; padding is lost when embedded.
    needles.add(Buffer.from(value, 'utf8').toString('base64').replace(/=+$/, ''));
  }
  return [...needles].filter((n) => n.length >= 8 && !identity.some((id) => id.includes(n)));
}

function containsAny(text: string, needles: readonly string[]): boolean {
  for (const needle of needles) if (text.includes(needle)) return true;
  return false;
}

function scrubText(text: string, needles: readonly string[]): string {
  let out = text;
  for (const needle of needles) if (out.includes(needle)) out = out.split(needle).join(REDACTED);
  return out;
}

/** Same shape, every string (map keys too) with the needles cut out. */
function scrubDeep<T>(value: T, needles: readonly string[]): T {
  if (typeof value === 'string') return scrubText(value, needles) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => scrubDeep(v, needles)) as T;
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [scrubText(k, needles), scrubDeep(v as unknown, needles)])) as T;
  }
  return value;
}

/**
 * The final leak check, behind the field-based redaction: every value it dropped is searched for
 * in the whole canonical record — objects, patches, annotations and every other string field (a
 * response message quoting a rejected value, a webhook's annotation, a label) — and wherever it is
 * found it goes: an object becomes a stub (and the record is marked truncated), an annotation is
 * redacted whole (it may be JSON that a cut would break), any other text has the value cut out.
 */
export function scrubLeaks(record: AuditRecord, removed: ReadonlySet<string>): AuditRecord {
  if (removed.size === 0) return record;
  const needles = needlesOf(removed, identityOf(record));
  if (needles.length === 0) return record;
  const requestLeaked = record.requestObject !== null && containsAny(record.requestObject, needles);
  const responseLeaked = record.responseObject !== null && containsAny(record.responseObject, needles);
  const annotations: Record<string, string> = {};
  for (const [key, value] of Object.entries(record.annotations)) annotations[scrubText(key, needles)] = containsAny(value, needles) ? REDACTED : value;
  const { requestObject, responseObject, annotations: _annotations, ...rest } = record;
  // One search over the rest as JSON text (JSON-escaped needles are among the needles) decides
  // whether it needs the field-by-field scrub, which rebuilds the record: it rarely does.
  const restLeaked = containsAny(JSON.stringify(rest), needles);
  return {
    ...(restLeaked ? scrubDeep(rest, needles) : rest),
    annotations,
    requestObject: requestLeaked ? LEAKED_OBJECT : requestObject,
    responseObject: responseLeaked ? LEAKED_OBJECT : responseObject,
    truncated: record.truncated || requestLeaked || responseLeaked,
  };
}
