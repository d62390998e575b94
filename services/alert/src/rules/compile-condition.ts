import type { ConditionSpec, FieldConditionSpec } from './rule-schema.js';
import { fieldReadSource, type FieldValue } from './field-path.js';
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

/** Whether any element of an array field is exactly `expected` (a loop, not includes(): NaN is never equal). */
function anyIs(values: readonly unknown[], expected: unknown): boolean {
  for (const e of values) if (e === expected) return true;
  return false;
}

function anyIn(values: readonly unknown[], set: ReadonlySet<unknown>): boolean {
  for (const e of values) if (set.has(e)) return true;
  return false;
}

function hasPrefix(value: string, prefixes: readonly string[]): boolean {
  for (const p of prefixes) if (value.startsWith(p)) return true;
  return false;
}

function anyPrefix(values: readonly unknown[], prefixes: readonly string[]): boolean {
  for (const e of values) if (typeof e === 'string' && hasPrefix(e, prefixes)) return true;
  return false;
}

/** On an array field `contains` is membership; on a string it is a substring test. */
function contains(value: FieldValue, needles: readonly Scalar[], texts: readonly string[]): boolean {
  if (Array.isArray(value)) {
    for (const n of needles) if (value.includes(n)) return true;
    return false;
  }
  if (typeof value !== 'string') return false;
  for (const t of texts) if (value.includes(t)) return true;
  return false;
}

function anyMatches(values: readonly unknown[], test: MemoizedStringTest): boolean {
  for (const e of values) if (typeof e === 'string' && test.test(e)) return true;
  return false;
}

function roleRefPowerful(record: unknown, facts: RoleFacts | undefined): boolean {
  if (facts === undefined) return false;
  const key = roleRefKeyOf(record as Parameters<typeof roleRefKeyOf>[0]);
  return key !== undefined && facts.isPowerful(key);
}

const HELPERS = { anyIs, anyIn, hasPrefix, anyPrefix, contains, anyMatches, roleRefPowerful };

/**
 * A condition tree being turned into the source of one function: the values its tests compare with
 * (sets, prefixes, memoized string tests, field accessors) are held in `constants` and named `c<i>` in the
 * source; each field condition becomes a function `t<i>` of its own.
 */
interface Emitter {
  constants: unknown[];
  functions: string[];
}

function constant(out: Emitter, value: unknown): string {
  out.constants.push(value);
  return `c${out.constants.length - 1}`;
}

/**
 * The source of a field condition's function. Arrays (groups, hostPaths, images) match when any element
 * does, as in Falco's `intersects`. The tests are those of the operators present, all of which must hold.
 */
function fieldFunction(spec: FieldConditionSpec, scope: CompileScope, path: (string | number)[], out: Emitter): string {
  const field = spec.field;
  if (!isKnownField(field)) scope.problems.push({ path: [...path, 'field'], message: `unknown field "${field}" (see the canonical AuditRecord)` });
  const tests: string[] = [];
  if (spec.equals !== undefined) {
    if (spec.equals === null) tests.push('v === null || v === undefined');
    else {
      const c = constant(out, spec.equals);
      tests.push(`Array.isArray(v) ? h.anyIs(v, ${c}) : v === ${c}`);
    }
  }
  if (spec.in !== undefined) {
    const c = constant(out, new Set<unknown>(expand(spec.in, scope, [...path, 'in'])));
    tests.push(`Array.isArray(v) ? h.anyIn(v, ${c}) : ${c}.has(v)`);
  }
  if (spec.prefix !== undefined) {
    const c = constant(out, expand(asItems(spec.prefix), scope, [...path, 'prefix']).map(String));
    tests.push(`Array.isArray(v) ? h.anyPrefix(v, ${c}) : typeof v === 'string' && h.hasPrefix(v, ${c})`);
  }
  if (spec.contains !== undefined) {
    const needles = expand(asItems(spec.contains), scope, [...path, 'contains']);
    tests.push(`h.contains(v, ${constant(out, needles)}, ${constant(out, needles.map(String))})`);
  }
  const matching = (test: MemoizedStringTest): void => {
    const c = constant(out, test);
    tests.push(`Array.isArray(v) ? h.anyMatches(v, ${c}) : typeof v === 'string' && ${c}.test(v)`);
  };
  if (spec.glob !== undefined) {
    const regexes = expand(asItems(spec.glob), scope, [...path, 'glob']).map((g) => globToRegex(String(g)));
    matching(
      new MemoizedStringTest((e) => {
        for (const r of regexes) if (r.test(e)) return true;
        return false;
      }),
    );
  }
  if (spec.regex !== undefined) {
    const regex = new RegExp(spec.regex);
    matching(new MemoizedStringTest((e) => regex.test(e)));
  }
  if (spec.cidr !== undefined) {
    // Source addresses against networks users list (internal ranges), e.g. `sourceIPs`.
    const { list, invalid } = parseCidrs(expand(asItems(spec.cidr), scope, [...path, 'cidr']).map(String));
    for (const entry of invalid) scope.problems.push({ path: [...path, 'cidr'], message: `"${entry}" is not a CIDR (like 10.0.0.0/8 or fd00::/8)` });
    matching(new MemoizedStringTest((e) => inCidrs(list, e)));
  }
  if (spec.exists !== undefined) {
    const present = `v !== null && v !== undefined && v !== '' && !(Array.isArray(v) && v.length === 0)`;
    tests.push(spec.exists ? present : `!(${present})`);
  }
  // The bounds are numbers (zod), embedded as constants rather than as text (no number is turned into code).
  for (const [key, op] of [['gt', '>'], ['gte', '>='], ['lt', '<'], ['lte', '<=']] as const) {
    const bound = spec[key];
    if (bound !== undefined) tests.push(`typeof v === 'number' && v ${op} ${constant(out, bound)}`);
  }
  const name = `t${out.functions.length}`;
  const checks = tests.map((t) => `if (!(${t})) return false;`).join('\n  ');
  out.functions.push(`function ${name}(r) {\n  let v = r;\n  ${fieldReadSource(field)}\n  ${checks}\n  return true;\n}`);
  return `${name}(r)`;
}

/** The source of an expression over `r` (the record) and `f` (the facts) that is the condition's value. */
function conditionSource(spec: ConditionSpec, scope: CompileScope, path: (string | number)[], macroStack: readonly string[], negated: boolean, out: Emitter): string {
  if ('all' in spec) {
    const parts = spec.all.map((c, i) => conditionSource(c, scope, [...path, 'all', i], macroStack, negated, out));
    return parts.length === 0 ? 'true' : `(${parts.join(' && ')})`;
  }
  if ('any' in spec) {
    const parts = spec.any.map((c, i) => conditionSource(c, scope, [...path, 'any', i], macroStack, negated, out));
    return parts.length === 0 ? 'false' : `(${parts.join(' || ')})`;
  }
  if ('not' in spec) return `!${conditionSource(spec.not, scope, [...path, 'not'], macroStack, !negated, out)}`;
  if ('roleRefPowerful' in spec) {
    // A binding seen before its role's fact is re-checked when the fact arrives (AlertEvaluator):
    // that only adds matches, so the condition must never be negated (a late fact would un-match).
    if (negated) scope.problems.push({ path: [...path, 'roleRefPowerful'], message: 'roleRefPowerful cannot be used under not (a role may become known powerful after its binding was seen)' });
    return 'h.roleRefPowerful(r, f)';
  }
  if ('macro' in spec) {
    const body = scope.macros[spec.macro];
    if (body === undefined) {
      scope.problems.push({ path: [...path, 'macro'], message: `unknown macro "${spec.macro}"` });
      return 'false';
    }
    if (macroStack.includes(spec.macro)) {
      scope.problems.push({ path: [...path, 'macro'], message: `macro cycle: ${[...macroStack, spec.macro].join(' → ')}` });
      return 'false';
    }
    return conditionSource(body, scope, path, [...macroStack, spec.macro], negated, out);
  }
  return fieldFunction(spec, scope, path, out);
}

/**
 * Compiles a condition tree into one predicate, expanding named lists and macros. Problems (unknown
 * list or macro, macro cycles) are collected rather than thrown, so a file reports all of them.
 * The predicate is one generated function (with a function per field condition and an accessor per
 * field), as avsc generates its readers: built from closures, every rule's tests shared the same few
 * closure bodies, so each call and property read in them saw every rule's shapes and went megamorphic —
 * compile-condition's closures and field-path's `ownValue` were a quarter of the alert service's CPU at
 * 5,000 events/s (issue 16). Nothing in the rule files becomes code: values are passed in as constants.
 */
export function compileCondition(spec: ConditionSpec, scope: CompileScope, path: (string | number)[], macroStack: readonly string[] = [], negated = false): Predicate {
  const out: Emitter = { constants: [], functions: [] };
  const expression = conditionSource(spec, scope, path, macroStack, negated, out);
  const names = out.constants.map((_, i) => `const c${i} = c[${i}];`).join('\n');
  const source = `${names}\n${out.functions.join('\n')}\nreturn function match(r, f) {\n  return ${expression};\n};`;
  return new Function('h', 'c', 'hasOwn', source)(HELPERS, out.constants, Object.hasOwn) as Predicate;
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
