/**
 * GKE's Kubernetes audit logs reach Cloud Logging as `protoPayload` AuditLog entries; this maps one
 * back to the Kubernetes audit Event the apiserver produced, so imported GKE logs look like webhook
 * events downstream. Reference: https://cloud.google.com/kubernetes-engine/docs/how-to/audit-logging
 */

type Json = Record<string, unknown>;

const DECISION = 'authorization.k8s.io/decision';

function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** google.rpc.Code → the HTTP status the apiserver answered (https://github.com/googleapis/googleapis/blob/master/google/rpc/code.proto). */
const GRPC_TO_HTTP: Record<number, number> = {
  0: 200,
  1: 499,
  2: 500,
  3: 400,
  4: 504,
  5: 404,
  6: 409,
  7: 403,
  8: 429,
  9: 400,
  10: 409,
  11: 400,
  12: 501,
  13: 500,
  14: 503,
  15: 500,
  16: 401,
};

export function isGkeAuditEntry(v: unknown): v is Json & { protoPayload: Json } {
  return isRecord(v) && isRecord(v.protoPayload);
}

/**
 * Why a Cloud Logging AuditLog entry is not a Kubernetes audit event, or undefined when it is. A
 * project's export also holds billing, compute and IAM entries; mapped, they would be stored as
 * nonsense Kubernetes requests (and show up in `ask forbidden`).
 */
export function gkeEntryRejection(entry: Json & { protoPayload: Json }): string | undefined {
  const service = entry.protoPayload.serviceName;
  if (service === 'k8s.io') return undefined;
  const named = typeof service === 'string' ? `is from ${service}` : 'names no serviceName';
  return `Cloud Logging entry ${named}: not a Kubernetes audit entry (serviceName k8s.io)`;
}

/** A Kubernetes API version segment: v1, v2, v1beta1, v1alpha2. */
const API_VERSION = /^v\d+((alpha|beta)\d+)?$/;
/** The apiserver's non-resource roots: never an API group in a resource name. */
const NON_RESOURCE_ROOTS: ReadonlySet<string> = new Set(['api', 'apis', 'openapi', 'healthz', 'livez', 'readyz', 'version', 'metrics', 'logs', 'debug', '.well-known']);

/**
 * Subresources whose requests are long-running: the apiserver logs them at ResponseStarted (and
 * rules report them there), while Cloud Logging keeps one entry per request.
 */
const LONG_RUNNING_SUBRESOURCES: ReadonlySet<string> = new Set(['exec', 'attach', 'portforward']);

/** `apps/v1/namespaces/default/deployments/nginx/scale` → the objectRef and request path it names. */
export function parseGkeResourceName(resourceName: string): { objectRef: Json; path: string } | undefined {
  const segments = resourceName.split('/').filter((s) => s !== '');
  if (segments.length < 3) return undefined;
  const [group, version, ...rest] = segments as [string, string, ...string[]];
  // Discovery and other non-resource paths (`apis/apps/v1`, `openapi/v3/…`) have no version there.
  if (!API_VERSION.test(version) || NON_RESOURCE_ROOTS.has(group)) return undefined;
  const apiGroup = group === 'core' ? '' : group;
  let namespace: string | undefined;
  let tail = rest;
  if (tail[0] === 'namespaces' && tail.length >= 3) {
    namespace = tail[1];
    tail = tail.slice(2);
  }
  const [resource, name, subresource] = tail;
  if (resource === undefined) return undefined;
  const objectRef: Json = { resource, apiGroup, apiVersion: version };
  if (namespace !== undefined) objectRef.namespace = namespace;
  if (name !== undefined) objectRef.name = name;
  if (subresource !== undefined) objectRef.subresource = subresource;
  const prefix = apiGroup === '' ? `/api/${version}` : `/apis/${apiGroup}/${version}`;
  const path = [prefix, ...(namespace !== undefined ? ['namespaces', namespace] : []), ...tail].join('/');
  return { objectRef, path };
}

function withoutType(v: unknown): unknown {
  if (!isRecord(v)) return v;
  const { ['@type']: _type, ...rest } = v;
  return rest;
}

/**
 * The authorization decision as the apiserver's annotation, from `authorizationInfo[].granted`
 * when Cloud Logging did not copy the annotation into the labels: every check granted → allow.
 */
function decisionFrom(authorizationInfo: unknown): 'allow' | 'forbid' | undefined {
  if (!Array.isArray(authorizationInfo)) return undefined;
  const granted = authorizationInfo.filter(isRecord).map((a) => a.granted).filter((g): g is boolean => typeof g === 'boolean');
  if (granted.length === 0) return undefined;
  return granted.every((g) => g) ? 'allow' : 'forbid';
}

/** Maps a Cloud Logging AuditLog entry to a Kubernetes audit Event (validated by the caller like any other). */
export function gkeEntryToAuditEvent(entry: Json & { protoPayload: Json }): Json {
  const p = entry.protoPayload;
  const authn = isRecord(p.authenticationInfo) ? p.authenticationInfo : {};
  const meta = isRecord(p.requestMetadata) ? p.requestMetadata : {};
  const status = isRecord(p.status) ? p.status : {};
  const operation = isRecord(entry.operation) ? entry.operation : {};
  const methodName = str(p.methodName) ?? '';
  const resourceName = str(p.resourceName) ?? '';
  const verb = methodName.split('.').pop() ?? '';
  const timestamp = str(entry.timestamp);
  const parsed = resourceName.startsWith('/') ? undefined : parseGkeResourceName(resourceName);
  const grpc = typeof status.code === 'number' ? status.code : 0;
  const code = GRPC_TO_HTTP[grpc] ?? 500;
  const labels = isRecord(entry.labels) ? entry.labels : {};
  const annotations: Record<string, string> = Object.fromEntries(Object.entries(labels).filter((kv): kv is [string, string] => typeof kv[1] === 'string'));
  const decision = decisionFrom(p.authorizationInfo);
  if (annotations[DECISION] === undefined && decision !== undefined) annotations[DECISION] = decision;
  const subresource = parsed?.objectRef.subresource;
  const event: Json = {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: p.response !== undefined ? 'RequestResponse' : p.request !== undefined ? 'Request' : 'Metadata',
    auditID: str(operation.id) ?? str(entry.insertId),
    // Cloud Logging keeps one entry per request; a long-running one is reported as its start, as
    // the apiserver's own backends do, so exec/attach rules fire for GKE too.
    stage: typeof subresource === 'string' && LONG_RUNNING_SUBRESOURCES.has(subresource) ? 'ResponseStarted' : 'ResponseComplete',
    // Non-resource names come without their leading slash (`readyz`).
    requestURI: parsed?.path ?? `/${resourceName.replace(/^\/+/, '')}`,
    verb,
    user: { username: str(authn.principalEmail) ?? str(authn.principalSubject) ?? 'system:anonymous' },
    sourceIPs: str(meta.callerIp) !== undefined ? [meta.callerIp] : [],
    responseStatus: { metadata: {}, code, ...(str(status.message) !== undefined ? { message: status.message } : {}) },
    requestReceivedTimestamp: timestamp,
    stageTimestamp: timestamp,
  };
  const userAgent = str(meta.callerSuppliedUserAgent);
  if (userAgent !== undefined) event.userAgent = userAgent;
  if (parsed !== undefined) event.objectRef = parsed.objectRef;
  if (p.request !== undefined) event.requestObject = withoutType(p.request);
  if (p.response !== undefined) event.responseObject = withoutType(p.response);
  if (Object.keys(annotations).length > 0) event.annotations = annotations;
  return event;
}
