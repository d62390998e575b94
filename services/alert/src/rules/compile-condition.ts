import type { ConditionSpec, FieldConditionSpec } from './rule-schema.js';
import { fieldAccessor, type FieldValue } from './field-path.js';
import { globToRegex } from './glob-to-regex.js';
import { isKnownField } from './known-field.js';
import { MemoizedStringTest } from './memoized-string-test.js';
import { inCidrs, parseCidrs } from './parse-cidr.js';
import { roleRefKeyOf, type RoleFacts } from './role-fact.js';

/**
 * A compiled condition: pure, evaluated once per record. `facts` answers `roleRefPowerful`
 * (without it no role is known powerful).
 */
export type Predicate = (record: unknown, facts?: RoleFacts) => boolean;

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

/**
 * Arrays (groups, hostPaths, images) match when any element does, as in Falco's `intersects`.
 * Conditions run for every record against every rule, so nothing here allocates per call.
 */
function anyElement(test: (v: unknown) => boolean): (value: FieldValue) => boolean {
  return (value) => {
    if (!Array.isArray(value)) return test(value);
    for (const e of value) if (test(e)) return true;
    return false;
  };
}

function compileField(spec: FieldConditionSpec, scope: CompileScope, path: (string | number)[]): Predicate {
  const field = spec.field;
  if (!isKnownField(field)) scope.problems.push({ path: [...path, 'field'], message: `unknown field "${field}" (see the canonical AuditRecord)` });
  const tests: ((value: FieldValue) => boolean)[] = [];
  if (spec.equals !== undefined) {
    const expected = spec.equals;
    const equalsElement = anyElement((e) => e === expected);
    tests.push(expected === null ? (v) => v === null || v === undefined : equalsElement);
  }
  if (spec.in !== undefined) {
    const set = new Set<unknown>(expand(spec.in, scope, [...path, 'in']));
    tests.push(anyElement((e) => set.has(e)));
  }
  if (spec.prefix !== undefined) {
    const prefixes = expand(asItems(spec.prefix), scope, [...path, 'prefix']).map(String);
    tests.push(
      anyElement((e) => {
        if (typeof e !== 'string') return false;
        for (const p of prefixes) if (e.startsWith(p)) return true;
        return false;
      }),
    );
  }
  if (spec.contains !== undefined) {
    const needles = expand(asItems(spec.contains), scope, [...path, 'contains']);
    const texts = needles.map(String);
    // On an array field `contains` is membership; on a string it is a substring test.
    tests.push((v) => {
      if (Array.isArray(v)) {
        for (const n of needles) if (v.includes(n)) return true;
        return false;
      }
      if (typeof v !== 'string') return false;
      for (const t of texts) if (v.includes(t)) return true;
      return false;
    });
  }
  if (spec.glob !== undefined) {
    const regexes = expand(asItems(spec.glob), scope, [...path, 'glob']).map((g) => globToRegex(String(g)));
    const matches = new MemoizedStringTest((e) => {
      for (const r of regexes) if (r.test(e)) return true;
      return false;
    });
    tests.push(anyElement((e) => typeof e === 'string' && matches.test(e)));
  }
  if (spec.regex !== undefined) {
    const regex = new RegExp(spec.regex);
    const matches = new MemoizedStringTest((e) => regex.test(e));
    tests.push(anyElement((e) => typeof e === 'string' && matches.test(e)));
  }
  if (spec.cidr !== undefined) {
    // Source addresses against networks users list (internal ranges), e.g. `sourceIPs`.
    const { list, invalid } = parseCidrs(expand(asItems(spec.cidr), scope, [...path, 'cidr']).map(String));
    for (const entry of invalid) scope.problems.push({ path: [...path, 'cidr'], message: `"${entry}" is not a CIDR (like 10.0.0.0/8 or fd00::/8)` });
    const inside = new MemoizedStringTest((e) => inCidrs(list, e));
    tests.push(anyElement((e) => typeof e === 'string' && inside.test(e)));
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
  const get = fieldAccessor(field);
  const [only] = tests;
  if (tests.length === 1 && only) return (record) => only(get(record));
  // Several operators on one field all have to hold.
  return (record) => {
    const value = get(record);
    for (const t of tests) if (!t(value)) return false;
    return true;
  };
}

/**
 * Compiles a condition tree into one predicate, expanding named lists and macros. Problems (unknown
 * list or macro, macro cycles) are collected rather than thrown, so a file reports all of them.
 */
export function compileCondition(spec: ConditionSpec, scope: CompileScope, path: (string | number)[], macroStack: readonly string[] = [], negated = false): Predicate {
  if ('all' in spec) {
    const parts = spec.all.map((c, i) => compileCondition(c, scope, [...path, 'all', i], macroStack, negated));
    return (r, f) => {
      for (const p of parts) if (!p(r, f)) return false;
      return true;
    };
  }
  if ('any' in spec) {
    const parts = spec.any.map((c, i) => compileCondition(c, scope, [...path, 'any', i], macroStack, negated));
    return (r, f) => {
      for (const p of parts) if (p(r, f)) return true;
      return false;
    };
  }
  if ('not' in spec) {
    const inner = compileCondition(spec.not, scope, [...path, 'not'], macroStack, !negated);
    return (r, f) => !inner(r, f);
  }
  if ('roleRefPowerful' in spec) {
    // A binding seen before its role's fact is re-checked when the fact arrives (AlertEvaluator):
    // that only adds matches, so the condition must never be negated (a late fact would un-match).
    if (negated) scope.problems.push({ path: [...path, 'roleRefPowerful'], message: 'roleRefPowerful cannot be used under not (a role may become known powerful after its binding was seen)' });
    return (r, f) => {
      if (f === undefined) return false;
      const key = roleRefKeyOf(r as Parameters<typeof roleRefKeyOf>[0]);
      return key !== undefined && f.isPowerful(key);
    };
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
    return compileCondition(body, scope, path, [...macroStack, spec.macro], negated);
  }
  return compileField(spec, scope, path);
}

/** Whether a condition asks `roleRefPowerful` (through macros too): such rules re-check late bindings. */
export function usesRoleFacts(spec: ConditionSpec, scope: CompileScope, macroStack: readonly string[] = []): boolean {
  if ('all' in spec) return spec.all.some((c) => usesRoleFacts(c, scope, macroStack));
  if ('any' in spec) return spec.any.some((c) => usesRoleFacts(c, scope, macroStack));
  if ('not' in spec) return usesRoleFacts(spec.not, scope, macroStack);
  if ('roleRefPowerful' in spec) return true;
  if ('macro' in spec) {
    const body = scope.macros[spec.macro];
    if (body === undefined || macroStack.includes(spec.macro)) return false;
    return usesRoleFacts(body, scope, [...macroStack, spec.macro]);
  }
  return false;
}

/**
 * The values `field` must have for `spec` to hold, or undefined when the condition does not pin it
 * down. Used to index rules by verb and resource, so a record is tested only against the rules it
 * could match (Falco indexes its rules by event type for the same reason). Conservative by
 * construction: `not` and unknown macros pin nothing, `any` pins only when every branch does.
 */
export function requiredValues(spec: ConditionSpec, field: string, scope: CompileScope, macroStack: readonly string[] = []): ReadonlySet<Scalar> | undefined {
  if ('all' in spec) {
    let out: Set<Scalar> | undefined;
    for (const c of spec.all) {
      const r = requiredValues(c, field, scope, macroStack);
      if (r) out = out ? new Set([...out].filter((v) => r.has(v))) : new Set(r);
    }
    return out;
  }
  if ('any' in spec) {
    const out = new Set<Scalar>();
    for (const c of spec.any) {
      const r = requiredValues(c, field, scope, macroStack);
      if (!r) return undefined;
      for (const v of r) out.add(v);
    }
    return out;
  }
  if ('not' in spec || 'roleRefPowerful' in spec) return undefined;
  if ('macro' in spec) {
    const body = scope.macros[spec.macro];
    if (body === undefined || macroStack.includes(spec.macro)) return undefined;
    return requiredValues(body, field, scope, [...macroStack, spec.macro]);
  }
  if (spec.field !== field) return undefined;
  // Problems were reported when the condition was compiled; not again here.
  const quiet: CompileScope = { ...scope, problems: [] };
  let out: Set<Scalar> | undefined;
  if (spec.equals !== undefined && spec.equals !== null) out = new Set([spec.equals]);
  if (spec.in !== undefined) {
    const listed = new Set<Scalar>(expand(spec.in, quiet, []));
    out = out ? new Set([...out].filter((v) => listed.has(v))) : listed;
  }
  return out;
}
