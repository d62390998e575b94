import { AUDIT_API_VERSIONS, auditEventListSchema, describeIssues } from '@kaudit/audit-schema';
import { KauditError } from '@kaudit/errors';
import { scanJson } from './scan-json.js';

/** Why a body was refused; also the DLQ `stage`, so an operator can group rejections. */
export type BodyProblem = 'invalid-utf8' | 'too-deep' | 'malformed-json' | 'wrong-kind';

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

const decoder = () => new TextDecoder('utf-8', { fatal: true });

/** Decodes strict UTF-8: invalid sequences are refused rather than silently replaced with U+FFFD. */
export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return decoder().decode(bytes);
  } catch {
    throw refuse('invalid-utf8', 'body is not valid UTF-8');
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Turns a webhook body (already inflated) into audit events: strict UTF-8, bounded nesting, JSON, and
 * an audit.k8s.io v1/v1beta1 EventList or single Event. Throws INPUT_INVALID with `details.problem`.
 */
export function parseAuditBody(bytes: Uint8Array, options: { maxDepth: number }): ParsedAuditBody {
  const text = decodeUtf8(bytes);
  const scan = scanJson(bytes, options.maxDepth);
  if (scan.tooDeep) {
    throw refuse('too-deep', `JSON nesting is deeper than ${options.maxDepth} levels`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw refuse('malformed-json', `malformed JSON: ${(err as Error).message}`);
  }
  if (!isRecord(value)) throw refuse('wrong-kind', 'body must be a JSON object: an audit.k8s.io EventList or Event');
  const { kind, apiVersion } = value;
  if (kind === 'EventList') {
    const list = auditEventListSchema.safeParse(value);
    if (!list.success) throw refuse('wrong-kind', `not an audit EventList: ${describeIssues(list.error)}`);
    const items = list.data.items;
    // The scan and JSON.parse must agree on the element count; otherwise re-serialise (never mis-slice).
    const consistent = scan.items.length <= items.length && scan.items.every((span, i) => span === undefined || isRecord(items[i]));
    const body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const originals = items.map((_, i) => {
      const span = consistent ? scan.items[i] : undefined;
      return span === undefined ? undefined : body.subarray(span[0], span[1]);
    });
    return { kind, apiVersion: list.data.apiVersion, items, originals };
  }
  if (kind === 'Event') {
    if (!AUDIT_API_VERSIONS.includes(apiVersion as (typeof AUDIT_API_VERSIONS)[number])) {
      throw refuse('wrong-kind', `apiVersion must be one of ${AUDIT_API_VERSIONS.join(', ')}, got ${JSON.stringify(apiVersion ?? null)}`);
    }
    return { kind, apiVersion: apiVersion as (typeof AUDIT_API_VERSIONS)[number], items: [value], originals: [Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)] };
  }
  throw refuse('wrong-kind', `kind must be EventList or Event (apiVersion ${AUDIT_API_VERSIONS.join(' or ')}), got ${JSON.stringify(kind ?? null)}`);
}
