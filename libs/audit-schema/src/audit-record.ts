import { z } from 'zod';

/**
 * kaudit's canonical audit record: what enrich writes to `kaudit.audit.enriched.v1` (as Avro), what
 * the sink stores as a row, and what alert rules match on. Every field users filter or group on is
 * here, typed, at most one level deep (rules and templates address them as `objectRef.resource`,
 * `actor.displayName`, …). Absent values are `null`, never missing, so the Avro schema stays simple.
 *
 * Growing it: add a field here AND in audit-record-v<N>.avsc.json as a new schema version with a
 * default (CONVENTIONS §12); never rename or remove.
 */

export const PROVIDERS = ['native', 'eks', 'gke', 'aks', 'tke'] as const;
/**
 * Set by `kaudit import` on events it read from a cloud's log format (GKE Cloud Logging, AKS
 * diagnostics, EKS CloudWatch): the format says which cloud, where the username often cannot.
 */
export const PROVIDER_ANNOTATION = 'import.kaudit.io/provider';
export const ACTOR_KINDS = ['human', 'serviceaccount', 'node', 'controller', 'system', 'anonymous', 'unknown'] as const;

/** Operation classes derived from verb, subresource and request body (enrich's classify step). */
export const OPERATION_CLASSES = [
  'read',
  'list',
  'watch',
  'create',
  'update',
  'patch',
  'delete',
  'deletecollection',
  'cordon',
  'uncordon',
  'drain',
  'evict',
  'exec',
  'attach',
  'port-forward',
  'proxy',
  'scale',
  'rollout-restart',
  'image-change',
  'rbac-change',
  'secret-read',
  'token-request',
  'impersonate',
  'other',
] as const;

const nullableString = z.string().nullable();

export const userSchema = z.object({
  username: nullableString,
  uid: nullableString,
  groups: z.array(z.string()),
  /** user.extra flattened: each key's values joined by `,` (e.g. EKS `sessionName`). */
  extra: z.record(z.string(), z.string()),
});

export const auditRecordSchema = z.object({
  /** Source cluster, from the verified ingest identity (never from the event body). */
  cluster: z.string().min(1),
  provider: z.enum(PROVIDERS),
  auditID: z.string().min(1),
  stage: z.string(),
  level: z.string(),
  /** Microseconds since the epoch (UTC). */
  requestReceivedUs: z.number().int(),
  stageUs: z.number().int(),
  /** When ingest received the batch (header `received-at`). */
  ingestedUs: z.number().int(),
  latencyMs: z.number(),
  verb: z.string(),
  requestURI: z.string(),
  objectRef: z.object({
    apiGroup: nullableString,
    apiVersion: nullableString,
    resource: nullableString,
    subresource: nullableString,
    namespace: nullableString,
    name: nullableString,
    uid: nullableString,
  }),
  response: z.object({
    code: z.number().int().nullable(),
    status: nullableString,
    reason: nullableString,
    message: nullableString,
  }),
  authorization: z.object({
    decision: nullableString, // annotation authorization.k8s.io/decision: allow | forbid
    reason: nullableString,
  }),
  /** Every other annotation (pod-security.kubernetes.io/*, admission webhooks, …). */
  annotations: z.record(z.string(), z.string()),
  user: userSchema,
  impersonatedUser: userSchema.nullable(),
  sourceIPs: z.array(z.string()),
  userAgent: nullableString,
  client: z.object({
    /** kubectl, helm, argocd, flux, terraform, client-go controller name, browser, curl, … */
    name: nullableString,
    version: nullableString,
  }),
  actor: z.object({
    /** Stable id across events, e.g. `aws:123456789012:role/admin/alice`, `sa:kube-system:default`. */
    id: z.string(),
    kind: z.enum(ACTOR_KINDS),
    displayName: z.string(),
    email: nullableString,
    team: nullableString,
    /** Cloud account the identity belongs to, when the username names one. */
    account: nullableString,
    /** Which resolver answered: `builtin`, `directory-file`, `http-directory`, or `unresolved`. */
    resolvedBy: z.string(),
  }),
  /** Team owning the namespace that was touched (namespace → team map), for routing alerts. */
  ownerTeam: nullableString,
  operation: z.enum(OPERATION_CLASSES),
  security: z.object({
    privileged: z.boolean(),
    hostNetwork: z.boolean(),
    hostPID: z.boolean(),
    hostIPC: z.boolean(),
    hostPaths: z.array(z.string()),
    addedCapabilities: z.array(z.string()),
    images: z.array(z.string()),
    clusterAdminBinding: z.boolean(),
    wildcardRole: z.boolean(),
    podExecRole: z.boolean(),
    credentialLikeKeys: z.array(z.string()),
  }),
  /** Redacted, size-capped JSON text of the request/response objects, or null. */
  requestObject: nullableString,
  responseObject: nullableString,
  /** True when objects were dropped or cut to stay under the size cap. */
  truncated: z.boolean(),
  /** One-line human summary ("Deng Wei deleted Deployment web/nginx in prod-eu-1"); null before schema v2. */
  summary: nullableString,
});

export type AuditRecord = z.infer<typeof auditRecordSchema>;
export type Provider = (typeof PROVIDERS)[number];
export type ActorKind = (typeof ACTOR_KINDS)[number];
export type OperationClass = (typeof OPERATION_CLASSES)[number];

/** The security facts of a record that touched nothing security-relevant (the starting point of derivation). */
export function emptySecurityFacts(): AuditRecord['security'] {
  return {
    privileged: false,
    hostNetwork: false,
    hostPID: false,
    hostIPC: false,
    hostPaths: [],
    addedCapabilities: [],
    images: [],
    clusterAdminBinding: false,
    wildcardRole: false,
    podExecRole: false,
    credentialLikeKeys: [],
  };
}
