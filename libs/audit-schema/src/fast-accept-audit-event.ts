import { AUDIT_API_VERSIONS, AUDIT_LEVELS, AUDIT_STAGES, RFC3339_TIMESTAMP, withV1beta1Times, type AuditEvent } from './k8s-audit-event.js';

/**
 * The hot-path twin of `auditEventSchema.safeParse` for what ingest and enrich feed it (JSON.parse
 * output): the event as it is, when zod would accept it and return the same data; otherwise
 * undefined, and zod decides (and words the reason). It never refuses, so zod stays the authority on
 * every rejection; it only has to never accept what zod refuses. zod's object parse rebuilt every
 * nested object of every event and was ~15% of enrich's CPU per event (issue 16).
 *
 * What it leaves to zod, to stay exact: anything that is not a plain JSON object where zod expects
 * an object (another prototype, which zod reads by `for…in` / refuses for a record), an own
 * `__proto__` key (zod drops it from its copy), symbol keys (dropped from a copy, refused in a record). The
 * returned event is the input (or withV1beta1Times' copy of it): zod's copy has the same fields, in
 * its shape order; nothing reads an event by key order. Kept in step with k8s-audit-event.ts by
 * check-audit-event.equivalence.test.ts, which walks that schema's shape.
 */
export function fastAcceptAuditEvent(value: unknown): AuditEvent | undefined {
  const e = withV1beta1Times(value);
  if (!isJsonObject(e)) return undefined;
  const ok =
    (e.kind === undefined || e.kind === 'Event') &&
    (e.apiVersion === undefined || isOneOf(e.apiVersion, AUDIT_API_VERSIONS)) &&
    isOneOf(e.level, AUDIT_LEVELS) &&
    isNonEmptyString(e.auditID) &&
    isOneOf(e.stage, AUDIT_STAGES) &&
    typeof e.requestURI === 'string' &&
    isNonEmptyString(e.verb) &&
    isUserInfo(e.user) &&
    (e.impersonatedUser === undefined || isUserInfo(e.impersonatedUser)) &&
    (e.sourceIPs === undefined || isStringArray(e.sourceIPs)) &&
    isOptionalString(e.userAgent) &&
    (e.objectRef === undefined || isObjectReference(e.objectRef)) &&
    (e.responseStatus === undefined || isResponseStatus(e.responseStatus)) &&
    isTimestamp(e.requestReceivedTimestamp) &&
    isTimestamp(e.stageTimestamp) &&
    (e.annotations === undefined || isStringRecord(e.annotations)) &&
    (e.timestamp === undefined || isTimestamp(e.timestamp)) &&
    (e.metadata === undefined || (isJsonObject(e.metadata) && isOptionalString(e.metadata.creationTimestamp)));
  return ok ? (e as AuditEvent) : undefined;
}


/**
 * An object zod reads exactly as we do: Object.prototype (JSON.parse's), no own `__proto__` key, no
 * symbol keys (zod's copy of an object drops them, a record refuses them; JSON has none).
 */
function isJsonObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype && !Object.hasOwn(v, '__proto__') && Object.getOwnPropertySymbols(v).length === 0;
}

function isOneOf(v: unknown, values: readonly string[]): boolean {
  return typeof v === 'string' && values.includes(v);
}

function isNonEmptyString(v: unknown): boolean {
  return typeof v === 'string' && v.length > 0;
}

function isOptionalString(v: unknown): boolean {
  return v === undefined || typeof v === 'string';
}

function isTimestamp(v: unknown): boolean {
  return typeof v === 'string' && RFC3339_TIMESTAMP.test(v);
}

function isStringArray(v: unknown): boolean {
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (typeof v[i] !== 'string') return false;
  return true;
}

/** z.record(z.string(), item): its own enumerable keys, as zod reads them (Reflect.ownKeys, enumerable only). */
function isRecordOf(v: unknown, item: (x: unknown) => boolean): boolean {
  if (!isJsonObject(v)) return false;
  for (const key in v) if (Object.hasOwn(v, key) && !item(v[key])) return false;
  return true;
}

function isString(v: unknown): boolean {
  return typeof v === 'string';
}

function isStringRecord(v: unknown): boolean {
  return isRecordOf(v, isString);
}

function isUserInfo(v: unknown): boolean {
  return (
    isJsonObject(v) &&
    isOptionalString(v.username) &&
    isOptionalString(v.uid) &&
    (v.groups === undefined || isStringArray(v.groups)) &&
    (v.extra === undefined || isRecordOf(v.extra, isStringArray))
  );
}

function isObjectReference(v: unknown): boolean {
  return (
    isJsonObject(v) &&
    isOptionalString(v.resource) &&
    isOptionalString(v.namespace) &&
    isOptionalString(v.name) &&
    isOptionalString(v.uid) &&
    isOptionalString(v.apiGroup) &&
    isOptionalString(v.apiVersion) &&
    isOptionalString(v.resourceVersion) &&
    isOptionalString(v.subresource)
  );
}

function isResponseStatus(v: unknown): boolean {
  if (!isJsonObject(v)) return false;
  const code = v.code;
  // Integers in 0–999 are finite and safe: zod's number, int and bounds checks in one.
  const codeOk = code === undefined || (typeof code === 'number' && Number.isInteger(code) && code >= 0 && code <= 999);
  return codeOk && isOptionalString(v.status) && isOptionalString(v.message) && isOptionalString(v.reason);
}
