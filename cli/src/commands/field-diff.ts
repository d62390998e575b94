/**
 * Field-level changes between two states of a Kubernetes object, for `kaudit ask history` (issue 17):
 * `spec.replicas 3 → 0`, `spec.template.spec.containers[nginx].image nginx:1.25 → nginx:1.27`. Pure, so it
 * is tested with fixtures. Values are shown as stored: a value enrich redacted reads `[redacted]` on both
 * sides, so a diff can say that a Secret key changed or appeared but never what it holds.
 */

export interface FieldChange {
  path: string;
  /** undefined: the field did not exist (or, for a patch without a known prior state, is unknown). */
  from?: unknown;
  to?: unknown;
  /** The prior value is unknown (a patch seen without the object before it); `from` is then undefined. */
  fromUnknown?: boolean;
  /** The field was removed (`to` is undefined). */
  removed?: boolean;
}

/**
 * Bookkeeping the apiserver changes on every write: showing it would bury the one line that matters.
 * `status` is written by controllers through the status subresource, not by the request a person made.
 */
const NOISE: ReadonlySet<string> = new Set([
  'metadata.resourceVersion',
  'metadata.generation',
  'metadata.managedFields',
  'metadata.creationTimestamp',
  'metadata.uid',
  'metadata.selfLink',
  'metadata.annotations.deployment.kubernetes.io/revision',
  'metadata.annotations.kubectl.kubernetes.io/last-applied-configuration',
  'status',
]);

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Arrays of objects that all have a distinct `name` (containers, env, ports, volumes) are matched by name. */
function byName(a: unknown[]): Map<string, unknown> | undefined {
  const m = new Map<string, unknown>();
  for (const item of a) {
    if (!isObject(item) || typeof item.name !== 'string' || m.has(item.name)) return undefined;
    m.set(item.name, item);
  }
  return m;
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function equal(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function walk(path: string, before: unknown, after: unknown, out: FieldChange[]): void {
  if (NOISE.has(path)) return;
  if (equal(before, after)) return;
  if (before === undefined) {
    out.push({ path, to: after });
    return;
  }
  if (after === undefined) {
    out.push({ path, from: before, removed: true });
    return;
  }
  if (isObject(before) && isObject(after)) {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    for (const k of [...keys].sort()) walk(join(path, k), before[k], after[k], out);
    return;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const a = byName(before);
    const b = byName(after);
    if (a && b) {
      const names = [...a.keys(), ...[...b.keys()].filter((n) => !a.has(n))];
      for (const n of names) walk(`${path}[${n}]`, a.get(n), b.get(n), out);
      return;
    }
    if (before.length === after.length) {
      before.forEach((v, i) => walk(`${path}[${i}]`, v, after[i], out));
      return;
    }
  }
  out.push({ path, from: before, to: after });
}

/** Every field that differs between two states of an object, in a stable order. */
export function diffObjects(before: unknown, after: unknown): FieldChange[] {
  const out: FieldChange[] = [];
  walk('', before, after, out);
  return out;
}

/** Strategic-merge-patch directives ($patch, $setElementOrder/…, $retainKeys…) are instructions, not fields. */
function isDirective(key: string): boolean {
  return key.startsWith('$');
}

/**
 * Applies a JSON merge patch (RFC 7386) or a strategic merge patch, as far as a diff needs it: maps merge,
 * null deletes, lists of named items merge by name (how the apiserver merges containers, env, ports),
 * other lists replace. Directives are ignored.
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const base: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (isDirective(k)) continue;
    if (v === null) delete base[k];
    else if (Array.isArray(v) && Array.isArray(base[k])) {
      const old = byName(base[k] as unknown[]);
      const upd = byName(v);
      if (old && upd) {
        const merged = new Map(old);
        for (const [n, item] of upd) merged.set(n, applyMergePatch(old.get(n), item));
        base[k] = [...merged.values()];
      } else base[k] = v;
    } else base[k] = applyMergePatch(base[k], v);
  }
  return base;
}

/** `/spec/template/spec/containers/0/image` → the keys of that JSON pointer (RFC 6901 unescaping). */
function pointerKeys(pointer: string): string[] {
  return pointer.split('/').slice(1).map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/** Applies a JSON patch (RFC 6902: add/replace/remove/copy/move; test is a no-op here). */
export function applyJsonPatch(target: unknown, ops: readonly unknown[]): unknown {
  const root: { v: unknown } = { v: clone(target) ?? {} };
  const parentOf = (keys: string[]): [Record<string, unknown> | unknown[] | undefined, string] => {
    let cur: unknown = root.v;
    for (const k of keys.slice(0, -1)) {
      if (Array.isArray(cur)) cur = cur[Number(k)];
      else if (isObject(cur)) {
        if (cur[k] === undefined) cur[k] = {};
        cur = cur[k];
      } else return [undefined, ''];
    }
    return [Array.isArray(cur) || isObject(cur) ? cur : undefined, keys[keys.length - 1] ?? ''];
  };
  const get = (keys: string[]): unknown => keys.reduce<unknown>((cur, k) => (Array.isArray(cur) ? cur[Number(k)] : isObject(cur) ? cur[k] : undefined), root.v);
  const set = (keys: string[], value: unknown, insert: boolean) => {
    if (keys.length === 0) {
      root.v = value;
      return;
    }
    const [parent, last] = parentOf(keys);
    if (Array.isArray(parent)) {
      const i = last === '-' ? parent.length : Number(last);
      if (insert) parent.splice(i, 0, value);
      else parent[i] = value;
    } else if (parent) parent[last] = value;
  };
  const remove = (keys: string[]) => {
    const [parent, last] = parentOf(keys);
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else if (parent) delete parent[last];
  };
  for (const op of ops) {
    if (!isObject(op) || typeof op.path !== 'string') continue;
    const keys = pointerKeys(op.path);
    switch (op.op) {
      case 'add':
        set(keys, clone(op.value), true);
        break;
      case 'replace':
        set(keys, clone(op.value), false);
        break;
      case 'remove':
        remove(keys);
        break;
      case 'copy':
      case 'move': {
        if (typeof op.from !== 'string') break;
        const from = pointerKeys(op.from);
        const value = clone(get(from));
        if (op.op === 'move') remove(from);
        set(keys, value, true);
        break;
      }
      default:
        break;
    }
  }
  return root.v;
}

/** The fields a patch sets, when the object before it is unknown: each leaf is a change from an unknown value. */
export function patchedFields(patch: unknown): FieldChange[] {
  if (Array.isArray(patch)) {
    return patch.flatMap((op: unknown): FieldChange[] => {
      if (!isObject(op) || typeof op.path !== 'string' || op.op === 'test') return [];
      const path = pointerKeys(op.path).join('.');
      return op.op === 'remove' ? [{ path, fromUnknown: true, removed: true }] : [{ path, fromUnknown: true, to: op.value }];
    });
  }
  const out: FieldChange[] = [];
  const leaves = (path: string, v: unknown) => {
    if (isObject(v)) {
      for (const [k, sub] of Object.entries(v)) if (!isDirective(k)) leaves(join(path, k), sub);
      return;
    }
    if (Array.isArray(v)) {
      const named = byName(v);
      if (named) {
        for (const [n, item] of named) leaves(`${path}[${n}]`, isObject(item) ? Object.fromEntries(Object.entries(item).filter(([k]) => k !== 'name')) : item);
        return;
      }
    }
    if (NOISE.has(path)) return;
    out.push(v === null ? { path, fromUnknown: true, removed: true } : { path, fromUnknown: true, to: v });
  };
  leaves('', patch);
  return out;
}

/** One value of a change line: scalars as they are, structures as compact JSON, long values cut. */
export function formatValue(v: unknown, max = 60): string {
  if (v === undefined) return '(none)';
  const text = typeof v === 'string' ? v : JSON.stringify(v as Json);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** `spec.replicas 3 → 0`, `spec.paused (none) → true`, `metadata.labels.tier web → (removed)`, `spec.replicas → 0`. */
export function formatChange(c: FieldChange): string {
  const to = c.removed ? '(removed)' : formatValue(c.to);
  if (c.fromUnknown) return `${c.path} → ${to}`;
  return `${c.path} ${formatValue(c.from)} → ${to}`;
}
