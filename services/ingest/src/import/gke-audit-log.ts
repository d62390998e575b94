/**
 * GKE's Kubernetes audit logs reach Cloud Logging as `protoPayload` AuditLog entries; this maps one
 * back to the Kubernetes audit Event the apiserver produced, so imported GKE logs look like webhook
 * events downstream. Reference: https://cloud.google.com/kubernetes-engine/docs/how-to/audit-logging
 */

type Json = Record<string, unknown>;

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

/** `apps/v1/namespaces/default/deployments/nginx/scale` → the objectRef and request path it names. */
export function parseGkeResourceName(resourceName: string): { objectRef: Json; path: string } | undefined {
  const segments = resourceName.split('/').filter((s) => s !== '');
  if (segments.length < 3) return undefined;
  const [group, version, ...rest] = segments as [string, string, ...string[]];
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
  const annotations = Object.fromEntries(Object.entries(labels).filter((kv): kv is [string, string] => typeof kv[1] === 'string'));
  const event: Json = {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: p.response !== undefined ? 'RequestResponse' : p.request !== undefined ? 'Request' : 'Metadata',
    auditID: str(operation.id) ?? str(entry.insertId),
    // Cloud Logging keeps one entry per request, written when the response completed.
    stage: 'ResponseComplete',
    requestURI: parsed?.path ?? (resourceName || '/'),
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
