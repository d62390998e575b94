import type { AuditRecord } from '@kaudit/audit-schema';
import { parse as parseYaml } from 'yaml';
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

/** Documents nest (an apply body's YAML in a JSON string, a Secret in an annotation): that deep is enough. */
const MAX_NESTING = 4;

/** Whether parseEmbedded reads `text` as JSON (and only as JSON: a failed parse is no document). */
function isJsonStart(text: string): boolean {
  const first = text.trimStart().charAt(0);
  return first === '{' || first === '[' || first === '"';
}

/** A text that holds a document — JSON (also a JSON string literal) or multi-line YAML — parsed, else undefined. */
function parseEmbedded(text: string): unknown {
  try {
    if (isJsonStart(text)) return JSON.parse(text);
    if (text.includes('\n') && text.includes(':')) return parseYaml(text);
  } catch {
    // not a document
  }
  return undefined;
}

/**
 * Whether a dropped value is in a text — as is, or inside a document the text holds, however deep
 * and however often escaped (needles match one level of JSON escaping; deeper levels are unwrapped).
 */
function textLeaks(text: string, needles: readonly string[], depth: number): boolean {
  if (containsAny(text, needles)) return true;
  if (depth >= MAX_NESTING) return false;
  // JSON without a backslash has no escapes: every string in it (and in any document those strings
  // hold, which cannot contain a quote or a line break) is a verbatim part of the text, which holds
  // no needle. Parsing it could find nothing more; it was the leak check's biggest cost.
  if (isJsonStart(text) && !text.includes('\\')) return false;
  const doc = parseEmbedded(text);
  return doc !== undefined && typeof doc !== 'number' && typeof doc !== 'boolean' && valueLeaks(doc, needles, depth + 1);
}

function valueLeaks(value: unknown, needles: readonly string[], depth: number): boolean {
  if (typeof value === 'string') return textLeaks(value, needles, depth);
  // Plain loops over the same own keys as Object.entries: no [key, value] pair per property (hot path).
  if (Array.isArray(value)) {
    for (const v of value) if (valueLeaks(v, needles, depth)) return true;
    return false;
  }
  if (typeof value === 'object' && value !== null) {
    const object = value as Record<string, unknown>;
    for (const k of Object.keys(object)) if (textLeaks(k, needles, depth) || valueLeaks(object[k], needles, depth)) return true;
  }
  return false;
}

function scrubText(text: string, needles: readonly string[]): string {
  let out = text;
  for (const needle of needles) if (out.includes(needle)) out = out.split(needle).join(REDACTED);
  // Still there, inside an embedded document: the text goes whole (a cut could break the document).
  return textLeaks(out, needles, 0) ? REDACTED : out;
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
 * found — also inside documents the texts hold, however escaped — it goes: an object becomes a stub (and the record is marked truncated), an annotation is
 * redacted whole (it may be JSON that a cut would break), any other text has the value cut out.
 */
export function scrubLeaks(record: AuditRecord, removed: ReadonlySet<string>): AuditRecord {
  if (removed.size === 0) return record;
  const needles = needlesOf(removed, identityOf(record));
  if (needles.length === 0) return record;
  const requestLeaked = record.requestObject !== null && textLeaks(record.requestObject, needles, 0);
  const responseLeaked = record.responseObject !== null && textLeaks(record.responseObject, needles, 0);
  const annotations: Record<string, string> = {};
  for (const [key, value] of Object.entries(record.annotations)) annotations[scrubText(key, needles)] = textLeaks(value, needles, 0) ? REDACTED : value;
  // The field-by-field scrub rebuilds the record: only when something is there. The other fields are searched
  // in place (the same keys and values as a copy without the three would hold: copying it was a third of this).
  const restLeaked = otherFieldsLeak(record, needles);
  const { requestObject, responseObject } = record;
  const kept = restLeaked ? scrubDeep(withoutCheckedFields(record), needles) : record;
  return {
    ...kept,
    annotations,
    requestObject: requestLeaked ? LEAKED_OBJECT : requestObject,
    responseObject: responseLeaked ? LEAKED_OBJECT : responseObject,
    truncated: record.truncated || requestLeaked || responseLeaked,
  };
}

/** Checked on their own by scrubLeaks (objects stubbed, annotations redacted whole), not field by field. */
const CHECKED_ON_THEIR_OWN: ReadonlySet<string> = new Set(['requestObject', 'responseObject', 'annotations']);

/** valueLeaks over the record without the fields checked on their own. */
function otherFieldsLeak(record: AuditRecord, needles: readonly string[]): boolean {
  const fields = record as unknown as Record<string, unknown>;
  for (const k of Object.keys(fields)) {
    if (CHECKED_ON_THEIR_OWN.has(k)) continue;
    if (textLeaks(k, needles, 0) || valueLeaks(fields[k], needles, 0)) return true;
  }
  return false;
}

function withoutCheckedFields(record: AuditRecord): Omit<AuditRecord, 'requestObject' | 'responseObject' | 'annotations'> {
  const { requestObject: _request, responseObject: _response, annotations: _annotations, ...rest } = record;
  return rest;
}
