import { describeJsonSyntaxError, PROVIDER_ANNOTATION, type Provider } from '@kaudit/audit-schema';
import { gkeEntryRejection, gkeEntryToAuditEvent, isGkeAuditEntry } from './gke-audit-log.js';

export const IMPORT_FORMATS = ['auto', 'jsonl', 'eventlist', 'eks', 'gke', 'aks'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

/**
 * `verbatim`: the one event is the record itself, unchanged, so the record's own bytes are its JSON (published
 * as they are: no re-serialisation, and integers beyond 2^53 stay exact).
 */
export type Normalized = { ok: true; events: unknown[]; verbatim?: true } | { ok: false; reason: string };

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const fail = (reason: string): Normalized => ({ ok: false, reason });
const ok = (events: unknown[]): Normalized => ({ ok: true, events });

function parseJson(text: string, what: string): { value: unknown } | { error: string } {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    // Not JSON.parse's message: it quotes the input, and the reason goes to the DLQ header and the summary.
    return { error: `${what} is not JSON: ${describeJsonSyntaxError(text)}` };
  }
}

/** Looks like a Kubernetes audit Event (the log backend writes one per line; EventList items may omit kind). */
function isAuditEvent(v: Json): boolean {
  return v.kind === 'Event' || (v.kind === undefined && typeof v.auditID === 'string' && typeof v.stage === 'string');
}

function fromEventList(v: Json): Normalized {
  if (v.kind !== 'EventList' || !Array.isArray(v.items)) return fail('expected an audit.k8s.io EventList with items');
  const apiVersion = v.apiVersion;
  return ok(v.items.map((item) => (isRecord(item) && item.apiVersion === undefined && typeof apiVersion === 'string' ? { ...item, apiVersion } : item)));
}

function fromJsonl(v: unknown): Normalized {
  if (!isRecord(v)) return fail('expected a JSON object (an audit Event) per line');
  if (v.kind === 'EventList') return fromEventList(v);
  if (isAuditEvent(v)) return ok([v]);
  return fail(`expected an audit Event, got kind ${JSON.stringify(v.kind ?? null)}`);
}

/**
 * Marks the events of a cloud log format with the provider it implies: the format knows the cloud,
 * where the username often does not (a GKE `alice@example.com` looks native). Enrich honours it
 * unless the cluster's provider is configured.
 */
function fromProvider(provider: Provider, n: Normalized): Normalized {
  if (!n.ok) return n;
  return ok(n.events.map((e) => (isRecord(e) ? { ...e, annotations: { ...(isRecord(e.annotations) ? e.annotations : {}), [PROVIDER_ANNOTATION]: provider } } : e)));
}

/** CloudWatch Logs entry: the apiserver's event JSON is the `message` (`@message` in Logs Insights exports). */
function fromEks(v: unknown): Normalized {
  if (!isRecord(v)) return fail('expected a CloudWatch Logs entry object');
  for (const list of [v.logEvents, v.events]) {
    if (Array.isArray(list)) return many(list, fromEks);
  }
  const message = typeof v.message === 'string' ? v.message : v['@message'];
  if (typeof message !== 'string') return fail('CloudWatch entry has no message string');
  const parsed = parseJson(message, 'CloudWatch message');
  if ('error' in parsed) return fail(parsed.error);
  return fromProvider('eks', fromJsonl(parsed.value));
}

/** Azure diagnostic log record: the event is `properties.log`, a JSON string or already an object. */
function fromAks(v: unknown): Normalized {
  if (!isRecord(v)) return fail('expected an Azure diagnostic log record object');
  if (Array.isArray(v.records)) return many(v.records, fromAks);
  const props = v.properties;
  if (!isRecord(props) || props.log === undefined) return fail('Azure record has no properties.log');
  if (typeof props.log === 'string') {
    const parsed = parseJson(props.log, 'properties.log');
    return 'error' in parsed ? fail(parsed.error) : fromProvider('aks', fromJsonl(parsed.value));
  }
  return fromProvider('aks', fromJsonl(props.log));
}

function fromGke(v: unknown): Normalized {
  if (Array.isArray(v)) return many(v, fromGke);
  if (!isGkeAuditEntry(v)) return fail('expected a Cloud Logging entry with protoPayload');
  const rejection = gkeEntryRejection(v);
  if (rejection !== undefined) return fail(rejection);
  return fromProvider('gke', ok([gkeEntryToAuditEvent(v)]));
}

function many(items: readonly unknown[], each: (v: unknown) => Normalized): Normalized {
  const events: unknown[] = [];
  for (const item of items) {
    const n = each(item);
    if (!n.ok) return n;
    events.push(...n.events);
  }
  return ok(events);
}

/** Recognises the shape of one record, so a file mixing sources still imports (`--format auto`). */
function fromAuto(v: unknown): Normalized {
  if (Array.isArray(v)) return many(v, fromAuto);
  if (!isRecord(v)) return fail('expected a JSON object');
  if (isGkeAuditEntry(v)) return fromGke(v);
  if (isRecord(v.properties) || Array.isArray(v.records)) return fromAks(v);
  if (typeof v.message === 'string' || typeof v['@message'] === 'string' || Array.isArray(v.logEvents) || Array.isArray(v.events)) return fromEks(v);
  if (v.kind === 'EventList') return fromEventList(v);
  if (isAuditEvent(v)) return ok([v]);
  return fail('unrecognised record: not an audit Event/EventList, CloudWatch (EKS), Cloud Logging (GKE) or Azure (AKS) entry');
}

const BY_FORMAT: Record<ImportFormat, (v: unknown) => Normalized> = {
  auto: fromAuto,
  jsonl: fromJsonl,
  eventlist: (v) => (isRecord(v) && v.kind === 'EventList' ? fromEventList(v) : isRecord(v) && isAuditEvent(v) ? ok([v]) : fail('expected an EventList or one of its items')),
  eks: fromEks,
  gke: fromGke,
  aks: fromAks,
};

/** Normalises one parsed record (a line, or an element of a JSON document) of an import file into audit events. */
export function normalizeImportRecord(value: unknown, format: ImportFormat): Normalized {
  return BY_FORMAT[format](value);
}

/**
 * Normalises one text line. Besides JSON, accepts CloudWatch's S3 export lines
 * (`2026-11-22T15:04:05.123Z {"kind":"Event",…}`), whose timestamp prefix precedes the JSON.
 */
export function normalizeImportLine(line: string, format: ImportFormat): Normalized {
  const parsed = parseJson(line, 'line');
  if (!('error' in parsed)) {
    const n = normalizeImportRecord(parsed.value, format);
    return n.ok && n.events.length === 1 && n.events[0] === parsed.value ? { ...n, verbatim: true } : n;
  }
  if (format === 'eks' || format === 'auto') {
    const match = /^\d{4}-\d{2}-\d{2}T\S+\s+(\{.*\})\s*$/.exec(line);
    if (match?.[1] !== undefined) {
      const inner = parseJson(match[1], 'CloudWatch export message');
      if (!('error' in inner)) return fromProvider('eks', fromJsonl(inner.value));
    }
  }
  return fail(parsed.error);
}
