import { emptySecurityFacts, type AuditRecord } from '@kaudit/audit-schema';
import { asArray, asObject, asString, dig } from './json-object.js';

export type SecurityFacts = AuditRecord['security'];

/**
 * ConfigMap key words that name a credential, matched on whole words of the key (`dbPassword`,
 * `STRIPE_API_KEY`, `aws_secret_access_key`), so `compass` or `author` are not taken for one.
 */
const CREDENTIAL_KEY_WORDS = /_(pass|passwd|password|passphrase|pwd|secret|secrets|token|tokens|credential|credentials|auth|dsn|apikey|api_key|private_key|privatekey|access_key|secret_key|connstr|conn_str|connection_string)_/;
/** Key files whose content is a key by convention. */
const CREDENTIAL_KEY_FILE = /\.(key|p12|pfx|jks|keystore)$/i;

/**
 * Shapes of real credentials in ConfigMap values (issue 15 §2): AWS access key ids, private key
 * blocks (PEM, OpenSSH, PGP), `password`/`passphrase`/`token`… assignments in env, INI, YAML or
 * JSON (not templated placeholders), URLs carrying a password (`postgres://user:pass@host`), bearer
 * tokens and JWTs. Only the key is recorded, never the value.
 */
const CREDENTIAL_VALUE_SHAPES: readonly RegExp[] = [
  /\b(AKIA|ASIA)[0-9A-Z]{16}\b/,
  /-----BEGIN [A-Z ]*PRIVATE KEY( BLOCK)?-----/,
  /(?<![A-Za-z0-9_])(password|passwd|passphrase|secret|api[-_]?key|access[-_]?key|token)["']?\s*[:=]\s*["']?(?!\$\{|\{\{|["'\s,}]|$)[^\s"',;}]{3,}/im,
  /\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@[^\s/]+/i,
  /\bBearer\s+[A-Za-z0-9\-._~+/]{20,}=*/,
  /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/,
];

function keyWords(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== '');
  return `_${words.join('_')}_`;
}

function isCredentialKey(key: string): boolean {
  return CREDENTIAL_KEY_WORDS.test(keyWords(key)) || CREDENTIAL_KEY_FILE.test(key);
}

function hasCredentialShape(value: string): boolean {
  return CREDENTIAL_VALUE_SHAPES.some((shape) => shape.test(value));
}

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
      if (typeof value !== 'string') continue;
      // binaryData values are base64; their text is what may hold a key block.
      const text = section === 'binaryData' ? Buffer.from(value, 'base64').toString('latin1') : value;
      if (isCredentialKey(key) || hasCredentialShape(text)) facts.credentialLikeKeys.push(key);
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

/** Most lists are empty (every Metadata-level event): no Set for those. */
const unique = (values: string[]): string[] => (values.length < 2 ? values : [...new Set(values)]);

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
