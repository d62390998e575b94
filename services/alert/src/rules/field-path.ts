/** What a field path resolves to in a canonical record. */
export type FieldValue = string | number | boolean | null | undefined | readonly unknown[] | Record<string, unknown>;

/** A field path compiled once: rules read the same few paths for every record. */
export type FieldAccessor = (record: unknown) => FieldValue;

/**
 * The canonical record's map-valued fields: their keys are data and may contain dots
 * (`pod-security.kubernetes.io/enforce`, EKS's `sessionName`). Every other object of the record has a fixed
 * shape whose keys never do.
 */
const MAP_FIELDS = ['annotations', 'user.extra', 'impersonatedUser.extra'];

/**
 * The steps of a path: below a map-valued field (MAP_FIELDS) the whole rest of the path is one key; above it,
 * or without one, each dot is a step into a fixed-shape object. Each step reads the own property of an object
 * (not of an array, not inherited), else the path is undefined.
 */
function stepsOf(path: string): string[] {
  const map = MAP_FIELDS.find((m) => path.startsWith(`${m}.`));
  return map === undefined ? path.split('.') : [...map.split('.'), path.slice(map.length + 1)];
}

/**
 * Compiles `objectRef.resource`, `user.extra.sessionName` or `annotations.pod-security.kubernetes.io/enforce`
 * into an accessor (see stepsOf). The steps are found here, not per record: per-record string slicing was 40%
 * of the alert service's CPU, and trying every remaining path as a key at each level (a failed lookup of
 * `objectRef.resource` on the record, then the step) was a sixth of rule evaluation at 5,000 events/s (issue 15 §1).
 * Each path gets a function of its own, generated with its keys as constants (as avsc generates readers): one
 * shared helper taking the key as an argument made every property read of every path one megamorphic keyed
 * lookup — that helper (`ownValue`) and its closures were 11% of the alert service's CPU at 5,000 events/s
 * (issue 16). Generating costs far more than one read: for a one-off read use getField.
 */
export function fieldAccessor(path: string): FieldAccessor {
  return new Function('hasOwn', `return function get(record) {\n  let v = record;\n  ${fieldReadSource(path)}\n  return v;\n};`)(Object.hasOwn) as FieldAccessor;
}

/**
 * Statements that replace `v`, a record, by the path's value in it (see fieldAccessor), for generated code that
 * binds `hasOwn` to Object.hasOwn: inlined where a value is tested (compileCondition), as a generated call
 * through a constant was not inlined.
 */
export function fieldReadSource(path: string): string {
  const steps = stepsOf(path).map((step) => {
    // Keys come from rule files: embedded as JSON string literals, never as code.
    const key = JSON.stringify(step);
    return `if (typeof v !== 'object' || v === null || Array.isArray(v) || !hasOwn(v, ${key})) { v = undefined; break read; }\n    v = v[${key}];`;
  });
  return `read: {\n    ${steps.join('\n    ')}\n  }`;
}

/** Resolves one path on one record, as fieldAccessor's accessor does (compile that instead when reading many records). */
export function getField(record: unknown, path: string): FieldValue {
  let value: unknown = record;
  for (const step of stepsOf(path)) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, step)) return undefined;
    value = (value as Record<string, unknown>)[step];
  }
  return value as FieldValue;
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
