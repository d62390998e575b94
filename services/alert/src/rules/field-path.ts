/** What a field path resolves to in a canonical record. */
export type FieldValue = string | number | boolean | null | undefined | readonly unknown[] | Record<string, unknown>;

/**
 * Resolves `objectRef.resource`, `user.extra.sessionName` or `annotations.pod-security.kubernetes.io/enforce`
 * on a record. Map-valued fields (annotations, user.extra) have keys containing dots, so at each
 * level the whole remaining path is tried as a key before splitting further.
 */
export function getField(record: unknown, path: string): FieldValue {
  let value: unknown = record;
  let rest = path;
  while (rest.length > 0) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    const node = value as Record<string, unknown>;
    if (Object.hasOwn(node, rest)) return node[rest] as FieldValue;
    const dot = rest.indexOf('.');
    if (dot < 0) return undefined;
    value = node[rest.slice(0, dot)];
    rest = rest.slice(dot + 1);
  }
  return value as FieldValue;
}

/** A field rendered as text for templates and group keys: arrays joined by `,`, null as empty. */
export function fieldText(record: unknown, path: string): string {
  const value = getField(record, path);
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map(String).join(',');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
