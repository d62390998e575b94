import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { KauditError } from '@kaudit/errors';
import { compileCondition, requiredValues, usesRoleFacts, type CompileProblem, type CompileScope, type Predicate, type Scalar } from './compile-condition.js';
import type { CompiledRule } from './compiled-rule.js';
import { ruleFileSchema, type ConditionSpec, type RuleFileSpec } from './rule-schema.js';
import { fieldAccessor } from './field-path.js';
import { isKnownField } from './known-field.js';

const TEMPLATE_TOKEN = /\{([A-Za-z][A-Za-z0-9._/-]*)\}/g;

export interface RuleSource {
  file: string;
  text: string;
}

/** One thing wrong with a rule file, positioned so an editor can jump to it. */
export interface RuleProblem {
  file: string;
  line: number;
  column: number;
  message: string;
}

export interface LoadedRules {
  rules: CompiledRule[];
  problems: RuleProblem[];
}

interface ParsedFile {
  file: string;
  doc: Document;
  lines: LineCounter;
  spec: RuleFileSpec | undefined;
}

function position(parsed: { doc: Document; lines: LineCounter }, path: readonly (string | number)[]): { line: number; column: number } {
  // Walk up the path until a node exists (a missing key is reported at its parent).
  for (let n = path.length; n >= 0; n--) {
    const node: unknown = n === 0 ? parsed.doc.contents : parsed.doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) {
      const pos = parsed.lines.linePos(node.range[0]);
      return { line: pos.line, column: pos.col };
    }
  }
  return { line: 1, column: 1 };
}

function parseFile(source: RuleSource, problems: RuleProblem[]): ParsedFile {
  const lines = new LineCounter();
  const doc = parseDocument(source.text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const parsed: ParsedFile = { file: source.file, doc, lines, spec: undefined };
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const pos = lines.linePos(e.pos[0]);
      problems.push({ file: source.file, line: pos.line, column: pos.col, message: e.message.split('\n')[0] ?? e.message });
    }
    return parsed;
  }
  const result = ruleFileSchema.safeParse(doc.toJS() ?? {});
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
      const where = position(parsed, path);
      const at = path.length > 0 ? `${path.join('.')}: ` : '';
      problems.push({ file: source.file, ...where, message: `${at}${issue.message}` });
    }
    return parsed;
  }
  parsed.spec = result.data;
  return parsed;
}

function exceptionPredicate(fields: Record<string, readonly (Scalar | { list: string })[]>, scope: CompileScope, path: (string | number)[]): Predicate {
  const checks = Object.entries(fields).map(([field, items]) => {
    const values = new Set<unknown>();
    items.forEach((item, i) => {
      if (typeof item !== 'object') values.add(item);
      else {
        const list = scope.lists[item.list];
        if (list === undefined) scope.problems.push({ path: [...path, field, i, 'list'], message: `unknown list "${item.list}"` });
        else for (const v of list) values.add(v);
      }
    });
    // Compiled once: getField per record would split and join the path for every match the exception is asked about.
    return { get: fieldAccessor(field), values };
  });
  return (record) =>
    checks.every(({ get, values }) => {
      const v = get(record);
      return Array.isArray(v) ? v.some((e) => values.has(e)) : values.has(v);
    });
}

/**
 * Validates and compiles rule files. Lists and macros are shared by every file (as in Falco), so
 * a pack can keep them in one place. Pure: callers do the file I/O.
 */
export function loadRuleSources(sources: readonly RuleSource[]): LoadedRules {
  const problems: RuleProblem[] = [];
  const parsed = sources.map((s) => parseFile(s, problems));
  const lists: Record<string, Scalar[]> = {};
  const macros: Record<string, ConditionSpec> = {};
  for (const p of parsed) {
    if (!p.spec) continue;
    for (const [name, items] of Object.entries(p.spec.lists)) {
      if (lists[name]) problems.push({ file: p.file, ...position(p, ['lists', name]), message: `list "${name}" is defined twice` });
      lists[name] = items;
    }
    for (const [name, body] of Object.entries(p.spec.macros)) {
      if (macros[name]) problems.push({ file: p.file, ...position(p, ['macros', name]), message: `macro "${name}" is defined twice` });
      macros[name] = body;
    }
  }
  const rules: CompiledRule[] = [];
  const seen = new Map<string, string>();
  for (const p of parsed) {
    if (!p.spec) continue;
    const compileProblems: CompileProblem[] = [];
    const scope: CompileScope = { lists, macros, problems: compileProblems };
    for (const [name, body] of Object.entries(p.spec.macros)) compileCondition(body, scope, ['macros', name], [name]);
    p.spec.rules.forEach((spec, i) => {
      const base = ['rules', i];
      const where = position(p, base);
      const before = seen.get(spec.id);
      if (before) problems.push({ file: p.file, ...position(p, [...base, 'id']), message: `rule id "${spec.id}" is already used in ${before}` });
      seen.set(spec.id, `${p.file}:${where.line}`);
      for (const m of spec.output.matchAll(TEMPLATE_TOKEN)) {
        const field = m[1] as string;
        if (field !== 'count' && !isKnownField(field)) compileProblems.push({ path: [...base, 'output'], message: `output template: unknown field "{${field}}"` });
      }
      const groupFields = [...(spec.threshold?.groupBy ?? []), ...(spec.threshold?.distinct ? [spec.threshold.distinct] : []), ...(spec.sequence?.by ?? []), ...(spec.dedup?.by ?? [])];
      for (const field of groupFields) if (!isKnownField(field)) compileProblems.push({ path: base, message: `unknown field "${field}" in a group key` });
      for (const [j, e] of spec.exceptions.entries()) {
        for (const field of Object.keys(e.fields)) if (!isKnownField(field)) compileProblems.push({ path: [...base, 'exceptions', j, 'fields', field], message: `unknown field "${field}"` });
      }
      const exceptions = spec.exceptions.map((e, j) => exceptionPredicate(e.fields, scope, [...base, 'exceptions', j, 'fields']));
      const rule: CompiledRule = {
        id: spec.id,
        name: spec.name,
        description: spec.description,
        severity: spec.severity,
        tags: spec.tags,
        output: spec.output,
        source: { file: p.file, line: where.line },
        match: spec.match ? compileCondition(spec.match, scope, [...base, 'match']) : () => true,
        excepted: (r) => exceptions.some((e) => e(r)),
        tests: spec.tests,
      };
      if (spec.threshold) {
        rule.threshold = {
          count: spec.threshold.count,
          windowMs: spec.threshold.window,
          groupBy: spec.threshold.groupBy,
          ...(spec.threshold.distinct !== undefined ? { distinct: spec.threshold.distinct } : {}),
        };
      }
      if (spec.match && usesRoleFacts(spec.match, scope)) {
        rule.usesRoleFacts = true;
        // A binding resolved late is evaluated alone (AlertEvaluator): it cannot count towards a threshold or sequence.
        if (spec.threshold || spec.sequence) compileProblems.push({ path: [...base, 'match'], message: 'roleRefPowerful cannot be used in a threshold or sequence rule' });
      }
      if (spec.sequence) {
        const seq = spec.sequence;
        // A late-resolved binding is evaluated again after later records: steps would go out of order.
        seq.steps.forEach((s, j) => {
          if (usesRoleFacts(s.match, scope)) compileProblems.push({ path: [...base, 'sequence', 'steps', j, 'match'], message: 'roleRefPowerful cannot be used in a sequence step (only in match)' });
        });
        rule.sequence = {
          steps: seq.steps.map((s, j) => ({ name: s.name, match: compileCondition(s.match, scope, [...base, 'sequence', 'steps', j, 'match']) })),
          windowMs: seq.window,
          by: seq.by,
        };
      }
      // Only `match` gates a rule (a record it rejects changes no state), or — for a sequence without
      // `match` — the union of the steps.
      const gate = spec.match ?? (spec.sequence ? { any: spec.sequence.steps.map((s) => s.match) } : undefined);
      if (gate) {
        const verb = requiredValues(gate, 'verb', scope);
        const resource = requiredValues(gate, 'objectRef.resource', scope);
        if (verb || resource) rule.prefilter = { ...(verb ? { verb } : {}), ...(resource ? { resource } : {}) };
      }
      if (spec.dedup) {
        rule.dedup = { windowMs: spec.dedup.window, by: spec.dedup.by ?? rule.threshold?.groupBy ?? rule.sequence?.by ?? ['cluster'] };
      }
      if (spec.enabled) rules.push(rule);
    });
    for (const cp of compileProblems) problems.push({ file: p.file, ...position(p, cp.path), message: cp.message });
  }
  return { rules, problems };
}

/** Every `*.yaml` / `*.yml` file of a directory (or the one file given), sorted by name. */
export function readRuleSources(dirOrFile: string): RuleSource[] {
  let files: string[];
  try {
    files = statSync(dirOrFile).isDirectory()
      ? readdirSync(dirOrFile)
          .filter((f) => /\.ya?ml$/.test(f))
          .sort()
          .map((f) => join(dirOrFile, f))
      : [dirOrFile];
  } catch (cause) {
    throw new KauditError('CONFIG_INVALID', `Cannot read rules from ${dirOrFile}`, { cause });
  }
  return files.map((file) => ({ file, text: readFileSync(file, 'utf8') }));
}

export function formatProblems(problems: readonly RuleProblem[]): string {
  return problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.message}`).join('\n');
}

/** Loads a rules directory for the service; any problem is fatal there (a half-loaded pack would miss alerts). */
export function loadRulesDir(dir: string): CompiledRule[] {
  const { rules, problems } = loadRuleSources(readRuleSources(dir));
  if (problems.length > 0) {
    throw new KauditError('CONFIG_INVALID', `Invalid rules in ${dir}:\n${formatProblems(problems)}`, { details: { problems } });
  }
  return rules;
}
