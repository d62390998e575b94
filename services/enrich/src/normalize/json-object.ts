/** A JSON object from an untyped audit payload, or undefined when it is anything else. */
export function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Follows `path` through nested objects; undefined as soon as a step is not an object. */
export function dig(value: unknown, ...path: string[]): unknown {
  let node: unknown = value;
  for (const key of path) {
    const obj = asObject(node);
    if (!obj) return undefined;
    node = obj[key];
  }
  return node;
}
