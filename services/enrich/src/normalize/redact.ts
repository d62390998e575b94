import { asArray, asObject } from './json-object.js';

export const REDACTED = '[redacted]';

/**
 * Annotations whose values may carry credentials. last-applied-configuration is a full copy of the
 * object as applied (a Secret's or ConfigMap's data included), so it is dropped on every kind: the
 * object itself already shows what it says.
 */
const CREDENTIAL_ANNOTATIONS: ReadonlySet<string> = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  'openshift.io/token-secret.value',
]);
const CREDENTIAL_ANNOTATION_KEY = /token|passw(or)?d|secret|credential|api[-_.]?key|private[-_.]?key/i;

/** Kinds whose value-bearing fields are dropped, and which fields those are. */
const VALUE_FIELDS: Readonly<Record<string, readonly (readonly string[])[]>> = {
  Secret: [['data'], ['stringData']],
  ConfigMap: [['data'], ['binaryData']],
  TokenReview: [['spec', 'token']],
  TokenRequest: [['status', 'token']],
};

/** The kind an un-kinded top-level payload (a patch body) has, from what the request addressed. */
function kindFromRequest(resource: string | null, subresource: string | null): string | undefined {
  if (resource === 'secrets' && !subresource) return 'Secret';
  if (resource === 'configmaps' && !subresource) return 'ConfigMap';
  if (resource === 'tokenreviews') return 'TokenReview';
  if (resource === 'serviceaccounts' && subresource === 'token') return 'TokenRequest';
  return undefined;
}

export interface RedactionResult {
  /** The redacted payload: a deep copy, or the input itself with `inPlace`. */
  value: unknown;
  /** Every value that was dropped (and its base64-decoded form), to verify nothing leaked elsewhere. */
  removed: Set<string>;
}

function remember(removed: Set<string>, value: unknown): void {
  if (typeof value === 'string') {
    // Short values ("true", "8080") occur everywhere; the field-based redaction covers them.
    if (value.length >= 8) removed.add(value);
    // Secret data is base64: the decoded text must not surface either (e.g. quoted in another field).
    if (/^[A-Za-z0-9+/]+={0,2}$/.test(value) && value.length >= 8) {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      if (decoded.length >= 8 && !decoded.includes('\ufffd')) removed.add(decoded);
    }
    return;
  }
  if (Array.isArray(value)) for (const v of value) remember(removed, v);
  else if (typeof value === 'object' && value !== null) for (const v of Object.values(value)) remember(removed, v);
}

function redactField(target: Record<string, unknown>, path: readonly string[], removed: Set<string>): void {
  const [head, ...rest] = path;
  if (head === undefined || !(head in target)) return;
  if (rest.length > 0) {
    const child = asObject(target[head]);
    if (child) redactField(child, rest, removed);
    return;
  }
  const value = target[head];
  remember(removed, value);
  const map = asObject(value);
  // Keys stay (which keys a Secret has is useful and not sensitive); only values go.
  target[head] = map ? Object.fromEntries(Object.keys(map).map((k) => [k, REDACTED])) : REDACTED;
}

function redactAnnotations(object: Record<string, unknown>, removed: Set<string>): void {
  const metadata = asObject(object.metadata);
  if (!metadata) return;
  // managedFields lists field names only, but is large and noise for auditing.
  delete metadata.managedFields;
  const annotations = asObject(metadata.annotations);
  if (!annotations) return;
  for (const key of Object.keys(annotations)) {
    if (CREDENTIAL_ANNOTATIONS.has(key) || CREDENTIAL_ANNOTATION_KEY.test(key)) {
      remember(removed, annotations[key]);
      annotations[key] = REDACTED;
    }
  }
}

function redactObject(object: Record<string, unknown>, kind: string | undefined, removed: Set<string>): void {
  redactAnnotations(object, removed);
  const ownKind = typeof object.kind === 'string' ? object.kind : kind;
  if (ownKind === undefined) return;
  for (const path of VALUE_FIELDS[ownKind] ?? []) redactField(object, path, removed);
  if (ownKind === 'Table') {
    // `kubectl get` asks for Tables; with includeObject=Object each row carries the full object.
    for (const row of asArray(object.rows)) {
      const rowObject = asObject(asObject(row)?.object);
      if (rowObject) redactObject(rowObject, kind, removed);
    }
  }
  if (ownKind.endsWith('List')) {
    // API list responses omit kind on items: the list's kind names them (SecretList → Secret).
    const itemKind = ownKind === 'List' ? undefined : ownKind.slice(0, -'List'.length);
    for (const item of asArray(object.items)) {
      const itemObject = asObject(item);
      if (itemObject) redactObject(itemObject, itemKind, removed);
    }
  }
}

/** JSON Patch (RFC 6902) ops on a value-bearing kind: every op value may be data, so all go. */
function redactJsonPatch(ops: unknown[], removed: Set<string>): void {
  for (const op of ops) {
    const o = asObject(op);
    if (o && 'value' in o && !String(o.path).startsWith('/metadata/labels')) {
      remember(removed, o.value);
      o.value = REDACTED;
    }
  }
}

/**
 * Removes credential values from a request or response object: Secret data/stringData, ConfigMap
 * data/binaryData, TokenReview spec.token, TokenRequest status.token and credential annotations,
 * for objects, lists of them and patch bodies. Derived facts must be computed before this runs.
 */
export function redactPayload(payload: unknown, resource: string | null, subresource: string | null, options: { inPlace?: boolean } = {}): RedactionResult {
  const removed = new Set<string>();
  if (payload === undefined || payload === null) return { value: payload, removed };
  // In place saves a deep copy per event on the hot path, for callers that own a freshly parsed payload.
  const value: unknown = options.inPlace === true ? payload : structuredClone(payload);
  const requestKind = kindFromRequest(resource, subresource);
  if (Array.isArray(value)) {
    if (requestKind !== undefined) redactJsonPatch(value, removed);
    return { value, removed };
  }
  const object = asObject(value);
  if (object) redactObject(object, requestKind, removed);
  return { value, removed };
}
