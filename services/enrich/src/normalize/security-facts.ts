import { emptySecurityFacts, type AuditRecord } from '@kaudit/audit-schema';
import { asArray, asObject, asString, dig } from './json-object.js';

export type SecurityFacts = AuditRecord['security'];

/** ConfigMap keys (or values) that suggest a credential was put where it is stored in clear text. */
const CREDENTIAL_KEY = /pass(word|wd)?|secret|token|api[-_.]?key|private[-_.]?key|credential|auth|\.pem$|\.key$|dsn|conn(ection)?[-_.]?str/i;
const CREDENTIAL_VALUE = /-----BEGIN [A-Z ]*PRIVATE KEY-----|\b(password|passwd|secret|api[-_]?key|token)\s*[:=]\s*\S+|AKIA[0-9A-Z]{16}/i;

/**
 * Where a pod spec sits in each workload kind. For patches (no `kind`) every known location is
 * tried, so `kubectl set image` patches still yield their images.
 */
function podSpecs(object: Record<string, unknown>): Record<string, unknown>[] {
  const candidates = [
    object.kind === 'Pod' || object.kind === undefined ? dig(object, 'spec') : undefined,
    dig(object, 'spec', 'template', 'spec'),
    dig(object, 'spec', 'jobTemplate', 'spec', 'template', 'spec'),
    dig(object, 'template', 'spec'), // PodTemplate
  ];
  return candidates.map(asObject).filter((s): s is Record<string, unknown> => s !== undefined && (s.containers !== undefined || s.initContainers !== undefined || s.volumes !== undefined || s.hostNetwork !== undefined || s.hostPID !== undefined || s.hostIPC !== undefined));
}

function addPodFacts(spec: Record<string, unknown>, facts: SecurityFacts): void {
  if (spec.hostNetwork === true) facts.hostNetwork = true;
  if (spec.hostPID === true) facts.hostPID = true;
  if (spec.hostIPC === true) facts.hostIPC = true;
  for (const volume of asArray(spec.volumes)) {
    const path = asString(dig(volume, 'hostPath', 'path'));
    if (path !== undefined) facts.hostPaths.push(path);
  }
  const containers = [...asArray(spec.initContainers), ...asArray(spec.containers), ...asArray(spec.ephemeralContainers)];
  for (const container of containers) {
    const image = asString(dig(container, 'image'));
    if (image !== undefined) facts.images.push(image);
    if (dig(container, 'securityContext', 'privileged') === true) facts.privileged = true;
    for (const cap of asArray(dig(container, 'securityContext', 'capabilities', 'add'))) {
      if (typeof cap === 'string') facts.addedCapabilities.push(cap);
    }
  }
}

function addRbacFacts(object: Record<string, unknown>, resource: string | null, facts: SecurityFacts): void {
  const isBinding = object.kind === 'ClusterRoleBinding' || object.kind === 'RoleBinding' || resource === 'clusterrolebindings' || resource === 'rolebindings';
  if (isBinding && dig(object, 'roleRef', 'name') === 'cluster-admin') facts.clusterAdminBinding = true;
  const isRole = object.kind === 'ClusterRole' || object.kind === 'Role' || resource === 'clusterroles' || resource === 'roles';
  if (!isRole) return;
  for (const rule of asArray(object.rules)) {
    const verbs = asArray(dig(rule, 'verbs'));
    const resources = asArray(dig(rule, 'resources'));
    const groups = asArray(dig(rule, 'apiGroups'));
    if (verbs.includes('*') || resources.includes('*') || groups.includes('*')) facts.wildcardRole = true;
    const execVerb = verbs.includes('create') || verbs.includes('get') || verbs.includes('*');
    const execResource = resources.some((r) => r === 'pods/exec' || r === 'pods/attach' || r === 'pods/*' || r === '*');
    if (execVerb && execResource) facts.podExecRole = true;
  }
}

function addConfigMapFacts(object: Record<string, unknown>, resource: string | null, facts: SecurityFacts): void {
  if (object.kind !== 'ConfigMap' && resource !== 'configmaps') return;
  for (const section of ['data', 'binaryData'] as const) {
    const data = asObject(object[section]);
    if (!data) continue;
    for (const [key, value] of Object.entries(data)) {
      if (CREDENTIAL_KEY.test(key) || (typeof value === 'string' && CREDENTIAL_VALUE.test(value))) facts.credentialLikeKeys.push(key);
    }
  }
}

/** The objects a payload holds: itself, or each item of a list response. */
function objectsOf(payload: unknown): Record<string, unknown>[] {
  const obj = asObject(payload);
  if (!obj) return [];
  const items = asArray(obj.items).map(asObject).filter((o): o is Record<string, unknown> => o !== undefined);
  return items.length > 0 && typeof obj.kind === 'string' && obj.kind.endsWith('List') ? items : [obj];
}

const unique = (values: string[]): string[] => [...new Set(values)];

/**
 * Facts rules match on, computed from the request object (what the user asked for) and, when the
 * level was Metadata for the request but the response is present, the response object. Must run on
 * the UNREDACTED payloads: ConfigMap values are dropped afterwards.
 */
export function deriveSecurityFacts(requestObject: unknown, responseObject: unknown, resource: string | null): SecurityFacts {
  const facts = emptySecurityFacts();
  const sources = requestObject !== undefined && requestObject !== null ? objectsOf(requestObject) : objectsOf(responseObject);
  for (const object of sources) {
    for (const spec of podSpecs(object)) addPodFacts(spec, facts);
    addRbacFacts(object, resource, facts);
    addConfigMapFacts(object, resource, facts);
  }
  facts.hostPaths = unique(facts.hostPaths);
  facts.addedCapabilities = unique(facts.addedCapabilities);
  facts.images = unique(facts.images);
  facts.credentialLikeKeys = unique(facts.credentialLikeKeys);
  return facts;
}
