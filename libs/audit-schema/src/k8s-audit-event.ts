import { z } from 'zod';

/**
 * The Kubernetes audit Event (audit.k8s.io/v1 and v1beta1) as the apiserver sends it. Only what
 * kaudit relies on is required; everything else passes through untouched, so a newer apiserver's
 * extra fields are kept, not rejected. Reference: k8s.io/apiserver/pkg/apis/audit/v1/types.go.
 */

export const AUDIT_API_VERSIONS = ['audit.k8s.io/v1', 'audit.k8s.io/v1beta1'] as const;
export const AUDIT_STAGES = ['RequestReceived', 'ResponseStarted', 'ResponseComplete', 'Panic'] as const;
export const AUDIT_LEVELS = ['None', 'Metadata', 'Request', 'RequestResponse'] as const;

/** RFC 3339 timestamp with optional fractional seconds (the apiserver writes microseconds). */
export const RFC3339_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const timestamp = z.string().regex(RFC3339_TIMESTAMP, 'must be an RFC 3339 timestamp');

export const userInfoSchema = z
  .object({
    username: z.string().optional(),
    uid: z.string().optional(),
    groups: z.array(z.string()).optional(),
    extra: z.record(z.string(), z.array(z.string())).optional(),
  })
  .passthrough();

export const objectReferenceSchema = z
  .object({
    resource: z.string().optional(),
    namespace: z.string().optional(),
    name: z.string().optional(),
    uid: z.string().optional(),
    apiGroup: z.string().optional(),
    apiVersion: z.string().optional(),
    resourceVersion: z.string().optional(),
    subresource: z.string().optional(),
  })
  .passthrough();

export const responseStatusSchema = z
  .object({
    // An HTTP status code (0 when unset, as metav1.Status says). Bounded so every accepted code fits
    // the Avro int and ClickHouse UInt16 it is stored in: a larger one was acknowledged, then
    // dead-lettered by enrich (issue 12 §1).
    code: z.number().int().min(0, 'must be an HTTP status code (0-999)').max(999, 'must be an HTTP status code (0-999)').optional(),
    status: z.string().optional(),
    message: z.string().optional(),
    reason: z.string().optional(),
  })
  .passthrough();

const auditEventObjectSchema = z
  .object({
    kind: z.literal('Event').optional(),
    apiVersion: z.enum(AUDIT_API_VERSIONS).optional(),
    level: z.enum(AUDIT_LEVELS),
    auditID: z.string().min(1, 'must not be empty'),
    stage: z.enum(AUDIT_STAGES),
    requestURI: z.string(),
    verb: z.string().min(1, 'must not be empty'),
    user: userInfoSchema,
    impersonatedUser: userInfoSchema.optional(),
    sourceIPs: z.array(z.string()).optional(),
    userAgent: z.string().optional(),
    objectRef: objectReferenceSchema.optional(),
    responseStatus: responseStatusSchema.optional(),
    requestObject: z.unknown().optional(),
    responseObject: z.unknown().optional(),
    requestReceivedTimestamp: timestamp,
    stageTimestamp: timestamp,
    annotations: z.record(z.string(), z.string()).optional(),
    // v1beta1 only: the event time; v1 moved it into requestReceivedTimestamp.
    timestamp: timestamp.optional(),
    metadata: z.object({ creationTimestamp: z.string().optional() }).passthrough().optional(),
  })
  .passthrough();

/**
 * Kubernetes 1.8–1.9 (v1beta1) wrote only `timestamp`; it is both times of such an event (issue 15
 * §3). Only for events not declared v1, and only where the time is missing.
 */
export function withV1beta1Times(v: unknown): unknown {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
  const e = v as Record<string, unknown>;
  if (e.apiVersion === 'audit.k8s.io/v1' || typeof e.timestamp !== 'string') return v;
  if (e.requestReceivedTimestamp !== undefined && e.stageTimestamp !== undefined) return v;
  return { ...e, requestReceivedTimestamp: e.requestReceivedTimestamp ?? e.timestamp, stageTimestamp: e.stageTimestamp ?? e.timestamp };
}

export const auditEventSchema = z.preprocess(withV1beta1Times, auditEventObjectSchema);

export type AuditEvent = z.infer<typeof auditEventSchema>;

/** The envelope of a webhook batch; items are validated one by one so one bad event does not sink the batch. */
export const auditEventListSchema = z
  .object({
    kind: z.literal('EventList'),
    apiVersion: z.enum(AUDIT_API_VERSIONS),
    items: z.array(z.unknown()),
    metadata: z.unknown().optional(),
  })
  .passthrough();

export type AuditEventList = z.infer<typeof auditEventListSchema>;

/** Map keys in a path come from the body; long ones are cut so a reason never carries a body's content. */
const MAX_PATH_SEGMENT = 64;

/**
 * Human-readable list of what is wrong with an event, e.g. `auditID: must not be empty; stage: Required`.
 * zod's messages name the expected type or values, never the received value.
 */
export function describeIssues(error: z.ZodError): string {
  const segment = (k: PropertyKey) => (String(k).length > MAX_PATH_SEGMENT ? `${String(k).slice(0, MAX_PATH_SEGMENT)}…` : String(k));
  return error.issues.map((i) => `${i.path.map(segment).join('.') || '(event)'}: ${i.message}`).join('; ');
}
