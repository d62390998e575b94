/** What a field path resolves to in a canonical record. */
export type FieldValue = string | number | boolean | null | undefined | readonly unknown[] | Record<string, unknown>;

/** A field path compiled once: rules read the same few paths for every record. */
export type FieldAccessor = (record: unknown) => FieldValue;

/**
 * Compiles `objectRef.resource`, `user.extra.sessionName` or `annotations.pod-security.kubernetes.io/enforce`
 * into an accessor. Map-valued fields (annotations, user.extra) have keys containing dots, so at each
 * level the whole remaining path is tried as a key before splitting further. The segments and the
 * remaining-path keys are computed here, not per record: per-record string slicing was 40% of the
 * alert service's CPU.
 */
export function fieldAccessor(path: string): FieldAccessor {
  const segments = path.split('.');
  const rests = segments.map((_, i) => segments.slice(i).join('.'));
  const last = segments.length - 1;
  return (record) => {
    let value: unknown = record;
    for (let i = 0; i <= last; i++) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
      const node = value as Record<string, unknown>;
      const rest = rests[i] as string;
      if (Object.hasOwn(node, rest)) return node[rest] as FieldValue;
      if (i === last) return undefined;
      value = node[segments[i] as string];
    }
    return value as FieldValue;
  };
}

/** Resolves one path on one record (see fieldAccessor; compile it instead when reading many records). */
export function getField(record: unknown, path: string): FieldValue {
  return fieldAccessor(path)(record);
}

/** A field value as text for templates and group keys: arrays joined by `,`, null as empty. */
export function valueText(value: FieldValue): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map(String).join(',');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** A field of a record as text (see valueText). */
export function fieldText(record: unknown, path: string): string {
  return valueText(getField(record, path));
}
