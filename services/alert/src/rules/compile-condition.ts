import type { ConditionSpec, FieldConditionSpec } from './rule-schema.js';
import { getField, type FieldValue } from './field-path.js';
import { globToRegex } from './glob-to-regex.js';
import { isKnownField } from './known-field.js';

/** A compiled condition: pure, evaluated once per record. */
export type Predicate = (record: unknown) => boolean;

export type Scalar = string | number | boolean;

/** A problem found while compiling, with the YAML path it belongs to (load-rules.ts turns it into file:line). */
export interface CompileProblem {
  path: (string | number)[];
  message: string;
}

export interface CompileScope {
  lists: Readonly<Record<string, readonly Scalar[]>>;
  macros: Readonly<Record<string, ConditionSpec>>;
  problems: CompileProblem[];
}

type ListItem = Scalar | { list: string };

function expand(items: readonly ListItem[], scope: CompileScope, path: (string | number)[]): Scalar[] {
  const out: Scalar[] = [];
  items.forEach((item, i) => {
    if (typeof item === 'object') {
      const list = scope.lists[item.list];
      if (list === undefined) scope.problems.push({ path: [...path, i, 'list'], message: `unknown list "${item.list}"` });
      else out.push(...list);
    } else out.push(item);
  });
  return out;
}

function asItems(value: ListItem | readonly ListItem[]): readonly ListItem[] {
  return Array.isArray(value) ? (value as readonly ListItem[]) : [value as ListItem];
}

/** Arrays (groups, hostPaths, images) match when any element does, as in Falco's `intersects`. */
function anyElement(value: FieldValue, test: (v: unknown) => boolean): boolean {
  if (Array.isArray(value)) return value.some(test);
  return test(value);
}

function compileField(spec: FieldConditionSpec, scope: CompileScope, path: (string | number)[]): Predicate {
  const field = spec.field;
  if (!isKnownField(field)) scope.problems.push({ path: [...path, 'field'], message: `unknown field "${field}" (see the canonical AuditRecord)` });
  const tests: ((value: FieldValue) => boolean)[] = [];
  if (spec.equals !== undefined) {
    const expected = spec.equals;
    tests.push((v) => (expected === null ? v === null || v === undefined : anyElement(v, (e) => e === expected)));
  }
  if (spec.in !== undefined) {
    const set = new Set<unknown>(expand(spec.in, scope, [...path, 'in']));
    tests.push((v) => anyElement(v, (e) => set.has(e)));
  }
  if (spec.prefix !== undefined) {
    const prefixes = expand(asItems(spec.prefix), scope, [...path, 'prefix']).map(String);
    tests.push((v) => anyElement(v, (e) => typeof e === 'string' && prefixes.some((p) => e.startsWith(p))));
  }
  if (spec.contains !== undefined) {
    const needles = expand(asItems(spec.contains), scope, [...path, 'contains']);
    // On an array field `contains` is membership; on a string it is a substring test.
    tests.push((v) =>
      Array.isArray(v) ? needles.some((n) => v.includes(n)) : typeof v === 'string' && needles.some((n) => v.includes(String(n))),
    );
  }
  if (spec.glob !== undefined) {
    const regexes = expand(asItems(spec.glob), scope, [...path, 'glob']).map((g) => globToRegex(String(g)));
    tests.push((v) => anyElement(v, (e) => typeof e === 'string' && regexes.some((r) => r.test(e))));
  }
  if (spec.regex !== undefined) {
    const regex = new RegExp(spec.regex);
    tests.push((v) => anyElement(v, (e) => typeof e === 'string' && regex.test(e)));
  }
  if (spec.exists !== undefined) {
    const want = spec.exists;
    tests.push((v) => {
      const present = v !== null && v !== undefined && v !== '' && !(Array.isArray(v) && v.length === 0);
      return present === want;
    });
  }
  const numeric = (op: (a: number) => boolean) => (v: FieldValue) => typeof v === 'number' && op(v);
  if (spec.gt !== undefined) {
    const n = spec.gt;
    tests.push(numeric((a) => a > n));
  }
  if (spec.gte !== undefined) {
    const n = spec.gte;
    tests.push(numeric((a) => a >= n));
  }
  if (spec.lt !== undefined) {
    const n = spec.lt;
    tests.push(numeric((a) => a < n));
  }
  if (spec.lte !== undefined) {
    const n = spec.lte;
    tests.push(numeric((a) => a <= n));
  }
  // Several operators on one field all have to hold.
  return (record) => {
    const value = getField(record, field);
    return tests.every((t) => t(value));
  };
}

/**
 * Compiles a condition tree into one predicate, expanding named lists and macros. Problems (unknown
 * list or macro, macro cycles) are collected rather than thrown, so a file reports all of them.
 */
export function compileCondition(spec: ConditionSpec, scope: CompileScope, path: (string | number)[], macroStack: readonly string[] = []): Predicate {
  if ('all' in spec) {
    const parts = spec.all.map((c, i) => compileCondition(c, scope, [...path, 'all', i], macroStack));
    return (r) => parts.every((p) => p(r));
  }
  if ('any' in spec) {
    const parts = spec.any.map((c, i) => compileCondition(c, scope, [...path, 'any', i], macroStack));
    return (r) => parts.some((p) => p(r));
  }
  if ('not' in spec) {
    const inner = compileCondition(spec.not, scope, [...path, 'not'], macroStack);
    return (r) => !inner(r);
  }
  if ('macro' in spec) {
    const body = scope.macros[spec.macro];
    if (body === undefined) {
      scope.problems.push({ path: [...path, 'macro'], message: `unknown macro "${spec.macro}"` });
      return () => false;
    }
    if (macroStack.includes(spec.macro)) {
      scope.problems.push({ path: [...path, 'macro'], message: `macro cycle: ${[...macroStack, spec.macro].join(' → ')}` });
      return () => false;
    }
    return compileCondition(body, scope, path, [...macroStack, spec.macro]);
  }
  return compileField(spec, scope, path);
}
