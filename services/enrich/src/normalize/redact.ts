import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { asObject } from './json-object.js';
import { NO_SENSITIVE_KINDS, sensitiveItemKindOfList, sensitiveKindOfBody, type SensitiveKind } from './redact-request.js';

export const REDACTED = '[redacted]';

/**
 * Annotations whose values may carry credentials. last-applied-configuration (and kapp's copy) is a
 * full copy of the object as applied (a Secret's data included), so it goes on every kind: the
 * object itself already shows what it says.
 */
const CREDENTIAL_ANNOTATIONS: ReadonlySet<string> = new Set(['kubectl.kubernetes.io/last-applied-configuration', 'kapp.k14s.io/original', 'openshift.io/token-secret.value']);
const CREDENTIAL_ANNOTATION_KEY = /token|passw(or)?d|secret|credential|api[-_.]?key|private[-_.]?key/i;

/**
 * What of an object of a sensitive kind is kept: an allow-list, so a field the apiserver does not
 * know (a typo in a patch, a new field) is redacted rather than passed on. `true` keeps the whole
 * subtree (still walked for embedded objects); a nested map keeps only the fields it names.
 */
type Keep = true | { readonly [field: string]: Keep };
const KEEP: Readonly<Record<SensitiveKind, Keep>> = {
  Secret: { apiVersion: true, kind: true, metadata: true, type: true, immutable: true },
  ConfigMap: { apiVersion: true, kind: true, metadata: true, immutable: true },
  TokenReview: { apiVersion: true, kind: true, metadata: true, spec: { audiences: true }, status: true },
  TokenRequest: { apiVersion: true, kind: true, metadata: true, spec: true, status: { expirationTimestamp: true } },
};

const NO_KEEPS: readonly Keep[] = [];

/** Per-call state: what was dropped (for the final leak check) and how many values (to know a text changed). */
interface Pass {
  removed: Set<string>;
  count: number;
}

export interface RedactionResult {
  /** The redacted payload: a deep copy, or the input itself with `inPlace`. */
  value: unknown;
  /** Every value that was dropped (and its base64-decoded form), to verify nothing leaked elsewhere. */
  removed: Set<string>;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Collects a dropped value for the final leak check; short values ("true", "8080") occur everywhere. */
export function remember(removed: Set<string>, value: unknown): void {
  if (typeof value === 'string') {
    if (value.length < 8 || value === REDACTED) return;
    removed.add(value);
    // Secret data is base64: the decoded text must not surface either (e.g. quoted in another field).
    if (BASE64.test(value)) {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      if (decoded.length >= 8 && !decoded.includes('\ufffd')) removed.add(decoded);
    }
    return;
  }
  if (Array.isArray(value)) for (const v of value) remember(removed, v);
  else if (typeof value === 'object' && value !== null) for (const v of Object.values(value)) remember(removed, v);
}

/** A value's replacement: keys of a map stay (which keys a Secret has is useful, not sensitive), values go. */
function redactValue(value: unknown, pass: Pass): unknown {
  if (value === null || value === undefined || value === REDACTED) return value;
  remember(pass.removed, value);
  pass.count++;
  const map = asObject(value);
  return map ? Object.fromEntries(Object.keys(map).map((k) => [k, REDACTED])) : REDACTED;
}

function union(kinds: ReadonlySet<SensitiveKind>, extra: SensitiveKind | undefined): ReadonlySet<SensitiveKind> {
  if (extra === undefined || kinds.has(extra)) return kinds;
  return new Set([...kinds, extra]);
}

/** The allow-list left for `field` under every constraint in `keeps`, or undefined when some kind drops it. */
function keepField(keeps: readonly Keep[], field: string): Keep[] | undefined {
  const next: Keep[] = [];
  for (const keep of keeps) {
    if (keep === true) continue;
    const sub = Object.hasOwn(keep, field) ? keep[field] : undefined;
    if (sub === undefined) return undefined;
    if (sub !== true) next.push(sub);
  }
  return next;
}

function firstChar(text: string): string {
  // Most strings on the hot path (names, images) start with a letter: skip the regex for them.
  const first = text.charAt(0);
  if (first !== ' ' && first !== '\n' && first !== '\t' && first !== '\r') return first;
  const match = /\S/.exec(text);
  return match ? match[0] : '';
}

/**
 * A string that holds a JSON document (an annotation with a copy of an object, a webhook's patch):
 * redacted as a document of `kinds` and re-serialized if anything went. Anything else is kept.
 */
function redactEmbeddedJson(text: string, kinds: ReadonlySet<SensitiveKind>, pass: Pass): string {
  const first = firstChar(text);
  if (first !== '{' && first !== '[') return text;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text;
  }
  const before = pass.count;
  const redacted = redactDocument(parsed, kinds, pass);
  return pass.count === before ? text : JSON.stringify(redacted);
}

/**
 * A body logged as text — a server-side apply body (`application/apply-patch+yaml`) is YAML or JSON
 * in a string. Parsed and redacted as a document; text that cannot be understood is dropped when
 * the request addresses a sensitive kind.
 */
function redactDocumentText(text: string, kinds: ReadonlySet<SensitiveKind>, pass: Pass): unknown {
  const json = firstChar(text) === '{' || firstChar(text) === '[';
  let parsed: unknown;
  try {
    parsed = json ? JSON.parse(text) : parseYaml(text);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return kinds.size > 0 ? redactValue(text, pass) : text;
  const before = pass.count;
  const redacted = redactDocument(parsed, kinds, pass);
  if (pass.count === before) return text;
  return json ? JSON.stringify(redacted) : stringifyYaml(redacted);
}

function isJsonPatch(values: readonly unknown[]): boolean {
  return values.length > 0 && values.every((v) => typeof asObject(v)?.op === 'string');
}

/** RFC 6901 pointer → keys (`~1` is `/`, `~0` is `~`); undefined when it is not a pointer. */
function pointerSegments(path: unknown): string[] | undefined {
  if (typeof path !== 'string' || (path !== '' && !path.startsWith('/'))) return undefined;
  return path === '' ? [] : path.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/**
 * JSON Patch (RFC 6902): each op's value is redacted as what it becomes at its path — it is placed
 * into an empty document of the request's kinds at that path, the document is redacted by the same
 * rules as a whole object, and the value read back. So `/data/x` of a Secret goes, a label stays,
 * and a last-applied-configuration added to any kind goes.
 */
function redactJsonPatch(ops: unknown[], kinds: ReadonlySet<SensitiveKind>, pass: Pass): unknown[] {
  return ops.map((op) => {
    const o = asObject(op);
    if (!o) return kinds.size > 0 ? redactValue(op, pass) : redactAny(op, pass);
    if (!('value' in o)) return o;
    const segments = pointerSegments(o.path);
    if (segments === undefined) {
      o.value = kinds.size > 0 ? redactValue(o.value, pass) : redactAny(o.value, pass);
      return o;
    }
    if (segments.length === 0) {
      o.value = redactDocument(o.value, kinds, pass);
      return o;
    }
    let doc: unknown = o.value;
    for (let i = segments.length - 1; i >= 0; i--) doc = { [segments[i] as string]: doc };
    let node = redactDocument(doc, kinds, pass);
    for (const segment of segments) {
      const parent = asObject(node);
      node = parent && Object.hasOwn(parent, segment) ? parent[segment] : REDACTED;
    }
    // A path the rules dropped (e.g. into managedFields) or cut short (a value redacted above it).
    o.value = node === undefined ? REDACTED : node;
    return o;
  });
}

/** Any payload, as an object/list/patch/text of `kinds` (empty: only what it names itself). */
function redactDocument(value: unknown, kinds: ReadonlySet<SensitiveKind>, pass: Pass): unknown {
  if (typeof value === 'string') return redactDocumentText(value, kinds, pass);
  if (Array.isArray(value)) {
    if (isJsonPatch(value)) return redactJsonPatch(value, kinds, pass);
    if (kinds.size === 0) return redactAny(value, pass);
    return value.map((v) => (asObject(v) ? redactObject(asObject(v) as Record<string, unknown>, kinds, pass) : redactValue(v, pass)));
  }
  const object = asObject(value);
  if (object) return redactObject(object, kinds, pass);
  return kinds.size > 0 ? redactValue(value, pass) : value;
}

/** A nested value with no kind of its own to go by: walked for objects that name a sensitive kind and for embedded documents. */
function redactAny(value: unknown, pass: Pass): unknown {
  if (typeof value === 'string') return redactEmbeddedJson(value, NO_SENSITIVE_KINDS, pass);
  if (Array.isArray(value)) {
    if (isJsonPatch(value)) return redactJsonPatch(value, NO_SENSITIVE_KINDS, pass);
    for (let i = 0; i < value.length; i++) value[i] = redactAny(value[i], pass);
    return value;
  }
  const object = asObject(value);
  return object ? redactObject(object, NO_SENSITIVE_KINDS, pass) : value;
}

/** ObjectMeta/ListMeta: managedFields dropped, credential annotations dropped, embedded documents redacted as `kinds`. */
function redactMetadata(value: unknown, kinds: ReadonlySet<SensitiveKind>, pass: Pass): unknown {
  const metadata = asObject(value);
  if (!metadata) return kinds.size > 0 ? redactValue(value, pass) : value;
  // managedFields lists field names only, but is large and noise for auditing.
  delete metadata.managedFields;
  for (const key of Object.keys(metadata)) {
    if (key !== 'annotations') metadata[key] = redactAny(metadata[key], pass);
  }
  const annotations = asObject(metadata.annotations);
  if (!annotations) return metadata;
  for (const key of Object.keys(annotations)) {
    const annotation = annotations[key];
    if (CREDENTIAL_ANNOTATIONS.has(key) || CREDENTIAL_ANNOTATION_KEY.test(key)) {
      // Redacted as a document first, only so that its values are known to the final leak check.
      if (typeof annotation === 'string') redactEmbeddedJson(annotation, kinds, pass);
      annotations[key] = redactValue(annotation, pass);
    } else if (typeof annotation === 'string') {
      annotations[key] = redactEmbeddedJson(annotation, kinds, pass);
    } else {
      annotations[key] = redactAny(annotation, pass);
    }
  }
  return metadata;
}

/**
 * An object that is of `kinds` because the request says so, plus what it names itself (`kind`,
 * any case, or a typed list's item kind): a body can add redaction, never opt out of it. Lists and
 * Tables of such objects pass the kinds on to their items / rows.
 */
function redactObject(object: Record<string, unknown>, inherited: ReadonlySet<SensitiveKind>, pass: Pass): Record<string, unknown> {
  const kinds = union(inherited, sensitiveKindOfBody(object.kind));
  const itemKinds = union(kinds, sensitiveItemKindOfList(object.kind));
  let items = false;
  let rows = false;
  if (Array.isArray(object.items) && itemKinds.size > 0) {
    // API list responses omit kind on items, and a generic `List` says nothing: the request decides.
    object.items = object.items.map((item) => (asObject(item) ? redactObject(asObject(item) as Record<string, unknown>, itemKinds, pass) : redactValue(item, pass)));
    items = true;
  }
  if (Array.isArray(object.rows) && kinds.size > 0) {
    // `kubectl get` asks for a meta.k8s.io Table; with includeObject=Object each row carries the object.
    object.rows = object.rows.map((row) => redactTableRow(row, kinds, pass));
    rows = true;
  }
  const keeps = kinds.size === 0 ? NO_KEEPS : [...kinds].map((k) => KEEP[k]);
  for (const field of Object.keys(object)) {
    if ((items && field === 'items') || (rows && (field === 'rows' || field === 'columnDefinitions'))) continue;
    object[field] = redactField(object[field], field, keeps, kinds, pass);
  }
  return object;
}

function redactField(value: unknown, field: string, keeps: readonly Keep[], kinds: ReadonlySet<SensitiveKind>, pass: Pass): unknown {
  if (keeps.length === 0) return field === 'metadata' ? redactMetadata(value, NO_SENSITIVE_KINDS, pass) : redactAny(value, pass);
  const next = keepField(keeps, field);
  if (next === undefined) return redactValue(value, pass);
  if (field === 'metadata') return redactMetadata(value, kinds, pass);
  if (next.length === 0) return redactAny(value, pass);
  const sub = asObject(value);
  if (!sub) return redactValue(value, pass);
  for (const key of Object.keys(sub)) sub[key] = redactField(sub[key], key, next, kinds, pass);
  return sub;
}

/** A Table row of a sensitive resource: the object as its kind; of the cells only the first (the name) stays. */
function redactTableRow(row: unknown, kinds: ReadonlySet<SensitiveKind>, pass: Pass): unknown {
  const r = asObject(row);
  if (!r) return redactValue(row, pass);
  for (const key of Object.keys(r)) {
    const value = r[key];
    if (key === 'object') r.object = asObject(value) ? redactObject(value as Record<string, unknown>, kinds, pass) : redactDocument(value, kinds, pass);
    else if (key === 'cells' && Array.isArray(value)) r.cells = value.map((cell, i) => (i === 0 && typeof cell === 'string' ? cell : typeof cell === 'number' ? cell : redactValue(cell, pass)));
    else if (key !== 'conditions') r[key] = redactValue(value, pass);
  }
  return r;
}

/**
 * Removes credential values from a request or response body of a request that addresses `kinds`
 * (see sensitiveKindsOf): Secret and ConfigMap values, TokenReview/TokenRequest tokens, credential
 * and object-copy annotations — in objects, Lists, Tables, JSON/merge/strategic-merge patches, apply
 * bodies logged as text and documents embedded in annotations. Derived facts must be computed
 * before this runs.
 */
export function redactPayload(payload: unknown, kinds: ReadonlySet<SensitiveKind>, options: { inPlace?: boolean } = {}): RedactionResult {
  const pass: Pass = { removed: new Set<string>(), count: 0 };
  if (payload === undefined || payload === null) return { value: payload, removed: pass.removed };
  // In place saves a deep copy per event on the hot path, for callers that own a freshly parsed payload.
  const value: unknown = options.inPlace === true ? payload : structuredClone(payload);
  // A top-level array is a JSON patch body (the only array an apiserver logs as a request object).
  const redacted = Array.isArray(value) ? redactJsonPatch(value, kinds, pass) : redactDocument(value, kinds, pass);
  return { value: redacted, removed: pass.removed };
}

/**
 * A patch a mutating webhook applied (from its audit annotation) to an object of `kinds`: a JSON
 * patch, a merge patch or patch text, redacted like a request body. `changed` says whether anything went.
 */
export function redactPatch(patch: unknown, kinds: ReadonlySet<SensitiveKind>, removed: Set<string>): { value: unknown; changed: boolean } {
  const pass: Pass = { removed, count: 0 };
  const value = Array.isArray(patch) ? redactJsonPatch(patch, kinds, pass) : redactDocument(patch, kinds, pass);
  return { value, changed: pass.count > 0 };
}

/** A dropped value as it is replaced, remembered for the final leak check. */
export function redactText(text: string, removed: Set<string>): string {
  remember(removed, text);
  return REDACTED;
}

/** A text that may embed a JSON document (an event annotation): only the kinds it names itself decide. */
export function redactEmbeddedText(text: string, removed: Set<string>): string {
  return redactEmbeddedJson(text, NO_SENSITIVE_KINDS, { removed, count: 0 });
}
