import { AUDIT_API_VERSIONS, auditEventListSchema, decodeJson, describeIssues, withoutBom } from '@kaudit/audit-schema';
import { KauditError } from '@kaudit/errors';
import { scanJson } from './scan-json.js';

/** Why a body was refused; also the DLQ `stage`, so an operator can group rejections. */
export type BodyProblem = 'invalid-utf8' | 'too-deep' | 'malformed-json' | 'duplicate-items' | 'wrong-kind';

export interface ParsedAuditBody {
  kind: 'EventList' | 'Event';
  apiVersion: (typeof AUDIT_API_VERSIONS)[number];
  /** The events, still unvalidated: each is checked on its own so one bad event does not sink the batch. */
  items: unknown[];
  /** Each event's bytes exactly as received, by index (undefined where they could not be located). */
  originals: (Buffer | undefined)[];
}

function refuse(problem: BodyProblem, message: string): KauditError {
  return new KauditError('INPUT_INVALID', message, { details: { problem } });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Turns a webhook body (already inflated) into audit events: strict UTF-8 (a leading byte order mark
 * is dropped, here as in enrich, so no published event starts with one), bounded nesting, JSON, and
 * an audit.k8s.io v1/v1beta1 EventList or single Event. Throws INPUT_INVALID with `details.problem`;
 * messages name the problem and its position, never the body's content.
 */
export function parseAuditBody(received: Uint8Array, options: { maxDepth: number }): ParsedAuditBody {
  const bytes = withoutBom(received);
  const scan = scanJson(bytes, options.maxDepth);
  if (scan.tooDeep) {
    throw refuse('too-deep', `JSON nesting is deeper than ${options.maxDepth} levels`);
  }
  const decoded = decodeJson(bytes);
  if (!decoded.ok) throw refuse(decoded.problem, decoded.problem === 'invalid-utf8' ? 'body is not valid UTF-8' : decoded.message);
  const value = decoded.value;
  if (!isRecord(value)) throw refuse('wrong-kind', 'body must be a JSON object: an audit.k8s.io EventList or Event');
  const { kind, apiVersion } = value;
  if (kind === 'EventList') {
    // Two `items` keys: JSON.parse keeps the last, a reader of the bytes may take the first. Which
    // events the apiserver meant is ambiguous, so the body is refused whole (and kept in the DLQ).
    if (scan.itemsKeys > 1) throw refuse('duplicate-items', `body has ${scan.itemsKeys} "items" keys (however spelled); an EventList has one`);
    const list = auditEventListSchema.safeParse(value);
    if (!list.success) throw refuse('wrong-kind', `not an audit EventList: ${describeIssues(list.error)}`);
    const items = list.data.items;
    // The scan and JSON.parse must agree element for element; otherwise re-serialise (never mis-slice).
    // (The scan leaves no entry for a trailing non-object element, so its list may be shorter.)
    const consistent = scan.items.length <= items.length && items.every((item, i) => (scan.items[i] !== undefined) === isRecord(item));
    const body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const originals = items.map((_, i) => {
      const span = consistent ? scan.items[i] : undefined;
      return span === undefined ? undefined : body.subarray(span[0], span[1]);
    });
    return { kind, apiVersion: list.data.apiVersion, items, originals };
  }
  if (kind === 'Event') {
    if (!AUDIT_API_VERSIONS.includes(apiVersion as (typeof AUDIT_API_VERSIONS)[number])) {
      throw refuse('wrong-kind', `apiVersion must be one of ${AUDIT_API_VERSIONS.join(', ')}`);
    }
    return { kind, apiVersion: apiVersion as (typeof AUDIT_API_VERSIONS)[number], items: [value], originals: [Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)] };
  }
  throw refuse('wrong-kind', `kind must be EventList or Event (apiVersion ${AUDIT_API_VERSIONS.join(' or ')})`);
}
