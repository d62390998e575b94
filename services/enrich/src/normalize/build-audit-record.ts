import { PROVIDER_ANNOTATION, type AuditEvent, type AuditRecord, type Provider } from '@kaudit/audit-schema';
import { classifyOperation } from './classify-operation.js';
import { summarizeEvent } from './summarize-event.js';
import { detectProvider } from './detect-provider.js';
import { parseClient } from './parse-client.js';
import { redactPayload } from './redact.js';
import { redactEventAnnotations } from './redact-annotations.js';
import { harvestCredentialValues } from './redact-harvest.js';
import { scrubLeaks } from './redact-leak-check.js';
import { sensitiveKindsOf } from './redact-request.js';
import { deriveSecurityFacts } from './security-facts.js';
import { toMicros } from './timestamps.js';
import { asObject, asString } from './json-object.js';

/** What enrich knows about a raw record besides its body (from Kafka headers). */
export interface RawMeta {
  cluster: string;
  /** When ingest received it, µs since the epoch. */
  ingestedUs: number;
  /** Ingest already dropped oversize objects. */
  truncated: boolean;
  /**
   * The event's times in µs when the caller already parsed them (decodeRawRecord, from the check it
   * runs anyway): parsing each timestamp a second time per record was measurable on the hot path.
   */
  requestReceivedUs?: number;
  stageUs?: number;
}

export interface BuildOptions {
  /** Cap on each of requestObject/responseObject as JSON text (bytes). */
  maxObjectBytes: number;
  /** Configured provider per cluster; wins over detection from the event. */
  clusterProviders: Readonly<Record<string, Provider>>;
}

export interface Resolved {
  actor: AuditRecord['actor'];
  ownerTeam: string | null;
}

const AUTHZ_DECISION = 'authorization.k8s.io/decision';
const AUTHZ_REASON = 'authorization.k8s.io/reason';
/** Kept in their own columns, not in `annotations`. */
const AUTHZ_ANNOTATIONS: ReadonlySet<string> = new Set([AUTHZ_DECISION, AUTHZ_REASON]);

function nullable(value: string | undefined): string | null {
  return value === undefined ? null : value;
}

function flattenExtra(extra: Record<string, string[]> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (extra === undefined) return out;
  // A loop, not fromEntries(entries().map()): no pair arrays per key on the hot path.
  for (const k of Object.keys(extra)) out[k] = (extra[k] as string[]).join(',');
  return out;
}

function toUser(user: AuditEvent['user']): AuditRecord['user'] {
  return { username: nullable(user.username), uid: nullable(user.uid), groups: user.groups ?? [], extra: flattenExtra(user.extra) };
}

/**
 * A payload as capped, redacted JSON text. Over the cap it becomes a small valid JSON stub naming
 * the object (readers always get parseable JSON), and the record is marked truncated.
 */
function capObject(value: unknown, maxBytes: number): { text: string | null; truncated: boolean } {
  if (value === undefined || value === null) return { text: null, truncated: false };
  let text = JSON.stringify(value);
  // UTF-8 takes at most 3 bytes per UTF-16 unit: most texts are known to fit without counting bytes.
  if (text.length * 3 <= maxBytes || Buffer.byteLength(text) <= maxBytes) return { text, truncated: false };
  const obj = asObject(value);
  const metadata = asObject(obj?.metadata);
  text = JSON.stringify({
    kind: asString(obj?.kind) ?? null,
    apiVersion: asString(obj?.apiVersion) ?? null,
    metadata: { name: asString(metadata?.name) ?? null, namespace: asString(metadata?.namespace) ?? null },
    kauditTruncated: { originalBytes: Buffer.byteLength(text) },
  });
  return { text, truncated: true };
}

/**
 * Raw audit event → canonical record (identity is resolved by the caller). The event is consumed:
 * its bodies are redacted in place, so pass one parsed for this call only. Order matters:
 * security facts and the operation class are derived from the original bodies BEFORE redaction
 * drops Secret/ConfigMap values. What is redacted is decided by the resource the request names
 * (objectRef, requestURI), never by the bodies; the finished record then goes through the final
 * leak check (scrubLeaks) as a whole.
 */
export function buildAuditRecord(event: AuditEvent, meta: RawMeta, resolved: Resolved, options: BuildOptions): AuditRecord {
  const ref = event.objectRef;
  const resource = nullable(ref?.resource);
  const subresource = nullable(ref?.subresource);
  const client = parseClient(event.userAgent);
  const provider =
    options.clusterProviders[meta.cluster] ??
    detectProvider({ username: event.user.username, extra: event.user.extra ?? {}, groups: event.user.groups ?? [], userAgent: event.userAgent, declared: event.annotations?.[PROVIDER_ANNOTATION] });

  const security = deriveSecurityFacts(event.requestObject, event.responseObject, resource);
  const operation = classifyOperation({
    verb: event.verb,
    apiGroup: ref?.apiGroup ?? (ref ? '' : null),
    resource,
    subresource,
    requestObject: event.requestObject,
    clientName: client.name,
  });

  const kinds = sensitiveKindsOf({ resource, subresource, requestURI: event.requestURI });
  // For the final leak check, found by a rule independent of the redactor's (and before it runs).
  const harvested = new Set<string>();
  if (kinds.size > 0) harvestCredentialValues([event.requestObject, event.responseObject], event.annotations ?? {}, harvested);
  const request = redactPayload(event.requestObject, kinds, { inPlace: true });
  const response = redactPayload(event.responseObject, kinds, { inPlace: true });
  // harvested is this call's own set: the redactor's finds join it (no spread into a new set per record).
  const removed = harvested;
  for (const value of request.removed) removed.add(value);
  for (const value of response.removed) removed.add(value);
  const requestObject = capObject(request.value, options.maxObjectBytes);
  const responseObject = capObject(response.value, options.maxObjectBytes);

  const decision = event.annotations?.[AUTHZ_DECISION];
  const reason = event.annotations?.[AUTHZ_REASON];
  const annotations = redactEventAnnotations(event.annotations ?? {}, kinds, removed, AUTHZ_ANNOTATIONS);

  const requestReceivedUs = meta.requestReceivedUs ?? toMicros(event.requestReceivedTimestamp);
  const stageUs = meta.stageUs ?? toMicros(event.stageTimestamp);
  const status = event.responseStatus;
  const user = toUser(event.user);
  const objectRef = {
    apiGroup: nullable(ref?.apiGroup),
    apiVersion: nullable(ref?.apiVersion),
    resource,
    subresource,
    namespace: nullable(ref?.namespace),
    name: nullable(ref?.name),
    uid: nullable(ref?.uid),
  };
  const responseStatus = { code: status?.code ?? null, status: nullable(status?.status), reason: nullable(status?.reason), message: nullable(status?.message) };
  return scrubLeaks({
    cluster: meta.cluster,
    provider,
    auditID: event.auditID,
    stage: event.stage,
    level: event.level,
    requestReceivedUs,
    stageUs,
    ingestedUs: meta.ingestedUs,
    latencyMs: Math.max(0, stageUs - requestReceivedUs) / 1000,
    verb: event.verb,
    requestURI: event.requestURI,
    objectRef,
    response: responseStatus,
    authorization: { decision: nullable(decision), reason: nullable(reason) },
    annotations,
    user,
    impersonatedUser: event.impersonatedUser ? toUser(event.impersonatedUser) : null,
    sourceIPs: event.sourceIPs ?? [],
    userAgent: nullable(event.userAgent),
    client,
    actor: resolved.actor,
    ownerTeam: resolved.ownerTeam,
    operation,
    security,
    requestObject: requestObject.text,
    responseObject: responseObject.text,
    truncated: meta.truncated || requestObject.truncated || responseObject.truncated,
    // Before the leak check like every other field: it is made of names only, and is checked as such.
    summary: summarizeEvent({ cluster: meta.cluster, verb: event.verb, objectRef, response: responseStatus, user, actor: resolved.actor, operation }),
  }, removed);
}
