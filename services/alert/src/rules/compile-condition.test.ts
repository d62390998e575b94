import { describe, expect, it } from 'vitest';
import { sampleAuditRecord } from '@kaudit/audit-schema';
import { compileCondition, type CompileScope, type Scalar } from './compile-condition.js';
import { getField } from './field-path.js';
import { globToRegex } from './glob-to-regex.js';
import { loadRuleSources } from './load-rules.js';
import { inCidrs, parseCidrs } from './parse-cidr.js';
import { roleRefKeyOf, type RoleFacts } from './role-fact.js';
import type { ConditionSpec } from './rule-schema.js';

const LISTS = `lists:
  internal_networks: [10.0.0.0/8, 192.168.0.0/16, "fd00::/8"]
`;

function load(condition: string) {
  return loadRuleSources([{ file: 'rules/x.yaml', text: `${LISTS}rules:\n  - id: r\n    name: r\n    severity: low\n    output: x\n    match: ${condition}\n` }]);
}

function matcher(condition: string): (sourceIPs: string[]) => boolean {
  const { rules, problems } = load(condition);
  expect(problems).toEqual([]);
  const rule = rules[0] as NonNullable<(typeof rules)[0]>;
  return (sourceIPs) => rule.match(sampleAuditRecord({ sourceIPs }));
}

describe('the cidr operator (issue 15 §2)', () => {
  it('matches an address inside any listed network, IPv4 and IPv6', () => {
    const internal = matcher('{ field: sourceIPs, cidr: [{ list: internal_networks }] }');
    expect(internal(['10.1.2.3'])).toBe(true);
    expect(internal(['192.168.255.1'])).toBe(true);
    expect(internal(['fd12:3456::1'])).toBe(true);
    expect(internal(['203.0.113.9'])).toBe(false);
    expect(internal(['11.0.0.1'])).toBe(false);
    expect(internal(['2001:db8::1'])).toBe(false);
    // Any element of an array field, as for the other operators.
    expect(internal(['203.0.113.9', '10.0.0.1'])).toBe(true);
    // What is not an address is in no network.
    expect(internal(['not-an-ip', ''])).toBe(false);
    expect(internal([])).toBe(false);
  });

  it('a bare address is a /32 (or /128), and literals mix with lists', () => {
    const one = matcher('{ field: sourceIPs, cidr: ["198.51.100.7", { list: internal_networks }] }');
    expect(one(['198.51.100.7'])).toBe(true);
    expect(one(['198.51.100.8'])).toBe(false);
  });

  it('names a malformed network when loading', () => {
    const { problems } = load('{ field: sourceIPs, cidr: ["10.0.0.0/33", "300.1.1.1/8", "banana"] }');
    expect(problems.map((p) => p.message)).toEqual([
      expect.stringContaining('"10.0.0.0/33" is not a CIDR') as unknown,
      expect.stringContaining('"300.1.1.1/8" is not a CIDR') as unknown,
      expect.stringContaining('"banana" is not a CIDR') as unknown,
    ]);
  });
});

/**
 * What each operator means, written the slow way (getField per test, closures, Array#some), against which the
 * generated predicates are compared: compileCondition turns a tree into generated code (issue 16), and any
 * difference from these meanings — an operator, an array rule, a missing field, a combinator — shows here.
 */
function reference(spec: ConditionSpec, record: unknown, scope: CompileScope, facts?: RoleFacts): boolean {
  if ('all' in spec) return spec.all.every((c) => reference(c, record, scope, facts));
  if ('any' in spec) return spec.any.some((c) => reference(c, record, scope, facts));
  if ('not' in spec) return !reference(spec.not, record, scope, facts);
  if ('roleRefPowerful' in spec) {
    const key = facts && roleRefKeyOf(record as Parameters<typeof roleRefKeyOf>[0]);
    return key !== undefined && facts !== undefined && facts.isPowerful(key);
  }
  if ('macro' in spec) {
    const body = scope.macros[spec.macro];
    return body !== undefined && reference(body, record, scope, facts);
  }
  const v = getField(record, spec.field);
  const items = (x: unknown): Scalar[] =>
    (Array.isArray(x) ? x : [x]).flatMap((i: Scalar | { list: string }) => (typeof i === 'object' ? [...(scope.lists[i.list] ?? [])] : [i]));
  const anyElement = (test: (e: unknown) => boolean): boolean => (Array.isArray(v) ? v.some(test) : test(v));
  const str = (test: (e: string) => boolean) => (e: unknown) => typeof e === 'string' && test(e);
  const checks: boolean[] = [];
  if (spec.equals !== undefined) checks.push(spec.equals === null ? v === null || v === undefined : anyElement((e) => e === spec.equals));
  if (spec.in !== undefined) checks.push(anyElement((e) => items(spec.in).some((i) => i === e)));
  if (spec.prefix !== undefined) checks.push(anyElement(str((e) => items(spec.prefix).some((p) => e.startsWith(String(p))))));
  if (spec.contains !== undefined) {
    const needles = items(spec.contains);
    checks.push(Array.isArray(v) ? needles.some((n) => v.includes(n)) : typeof v === 'string' && needles.some((n) => v.includes(String(n))));
  }
  if (spec.glob !== undefined) checks.push(anyElement(str((e) => items(spec.glob).some((g) => globToRegex(String(g)).test(e)))));
  if (spec.regex !== undefined) checks.push(anyElement(str((e) => new RegExp(spec.regex as string).test(e))));
  if (spec.cidr !== undefined) checks.push(anyElement(str((e) => inCidrs(parseCidrs(items(spec.cidr).map(String)).list, e))));
  if (spec.exists !== undefined) checks.push((v !== null && v !== undefined && v !== '' && !(Array.isArray(v) && v.length === 0)) === spec.exists);
  const num = (op: (a: number) => boolean) => typeof v === 'number' && op(v);
  if (spec.gt !== undefined) checks.push(num((a) => a > (spec.gt as number)));
  if (spec.gte !== undefined) checks.push(num((a) => a >= (spec.gte as number)));
  if (spec.lt !== undefined) checks.push(num((a) => a < (spec.lt as number)));
  if (spec.lte !== undefined) checks.push(num((a) => a <= (spec.lte as number)));
  return checks.every(Boolean);
}

describe('compiled conditions (generated code, issue 16)', () => {
  const scope: CompileScope = {
    lists: { verbs: ['create', 'delete'], nets: ['10.0.0.0/8'], codes: [401, 403], odd: [0, true, 'x'] },
    macros: { ok: { field: 'response.code', gte: 200, lt: 300 }, writes: { field: 'verb', in: [{ list: 'verbs' }] } },
    problems: [],
  };
  const fields: ConditionSpec[] = [
    { field: 'verb', equals: 'delete' },
    { field: 'verb', equals: null },
    { field: 'objectRef.subresource', equals: null },
    { field: 'response.code', equals: 403 },
    { field: 'security.privileged', equals: true },
    { field: 'user.groups', equals: 'system:masters' },
    { field: 'response.code', in: [{ list: 'codes' }, 500] },
    { field: 'verb', in: [{ list: 'odd' }, 'get'] },
    { field: 'user.username', prefix: ['system:', { list: 'verbs' }] },
    { field: 'user.groups', prefix: 'system:' },
    { field: 'requestURI', contains: ['exec', 403] },
    { field: 'user.groups', contains: 'system:masters' },
    { field: 'security.images', glob: ['*/nginx:*', 'busybox?'] },
    { field: 'user.username', regex: '^(alice|bob)@' },
    { field: 'sourceIPs', cidr: [{ list: 'nets' }, '192.168.1.1'] },
    { field: 'impersonatedUser.username', exists: true },
    { field: 'user.groups', exists: false },
    { field: 'objectRef.name', exists: true },
    { field: 'annotations.pod-security.kubernetes.io/enforce', equals: 'privileged' },
    { field: 'user.extra.sessionName', exists: true },
    { field: 'latencyMs', gt: 10, lte: 1000 },
    { field: 'response.code', gte: 400, lt: 500 },
    { field: 'response.code', equals: 403, in: [403, 404], exists: true, gt: 100 },
    { field: 'verb', equals: "'); throw new Error('x'); ('" },
    { macro: 'ok' },
    { macro: 'writes' },
    { roleRefPowerful: true },
  ];
  const conditions: ConditionSpec[] = [
    ...fields,
    ...fields.map((c) => ({ not: c })),
    ...fields.map((c, i) => ({ all: [c, fields[(i + 3) % fields.length] as ConditionSpec] })),
    ...fields.map((c, i) => ({ any: [c, { not: fields[(i + 5) % fields.length] as ConditionSpec }] })),
    { all: [{ any: [{ macro: 'writes' }, { field: 'verb', equals: 'patch' }] }, { not: { all: [{ macro: 'ok' }, { field: 'user.groups', exists: true }] } }] },
  ];
  const base = sampleAuditRecord();
  const records: unknown[] = [
    base,
    sampleAuditRecord({ verb: 'delete', response: { code: 403, status: null, reason: null, message: null }, latencyMs: 12 }),
    sampleAuditRecord({
      verb: 'create',
      requestURI: '/api/v1/namespaces/x/pods/p/exec?command=sh',
      sourceIPs: ['203.0.113.9', '10.1.2.3'],
      user: { username: 'alice@example.com', uid: null, groups: ['system:masters', 'dev'], extra: { sessionName: 'alice' } },
      impersonatedUser: { username: 'system:serviceaccount:a:b', uid: null, groups: [], extra: {} },
      annotations: { 'pod-security.kubernetes.io/enforce': 'privileged' },
      security: { ...base.security, privileged: true, images: ['docker.io/nginx:1.25', 'busybox1'] },
      objectRef: { ...base.objectRef, subresource: 'exec', name: '' },
    }),
    sampleAuditRecord({ verb: "'); throw new Error('x'); ('", sourceIPs: ['192.168.1.1'], user: { username: 'system:kube-proxy', uid: null, groups: [], extra: {} }, response: { code: 200, status: null, reason: null, message: null } }),
    // Not canonical records: what a predicate must still answer the same way about.
    {},
    null,
    'delete',
    [base],
    { verb: ['get', 'delete'], response: { code: [401, 200] }, latencyMs: Number.NaN, sourceIPs: '10.0.0.1', user: { groups: 'system:masters', username: ['bob@x'] } },
    { verb: 0, response: null, objectRef: [], security: { privileged: 1, images: [7, 'busybox2'] }, annotations: { 'pod-security.kubernetes.io/enforce': ['privileged'] } },
    Object.assign(Object.create({ verb: 'delete' }) as object, { response: Object.create({ code: 403 }) as object }),
  ];
  const facts: RoleFacts = { isPowerful: () => true };
  // roleRefPowerful reads the record's objectRef (as before generated code): asked with facts of canonical records only.
  const canonical = 4;

  it('answers as the reference meaning of every operator and combinator, for canonical records and odd values alike', () => {
    let compared = 0;
    for (const spec of conditions) {
      const problems: CompileScope['problems'] = [];
      const match = compileCondition(spec, { ...scope, problems }, []);
      // The only problem here is a negated roleRefPowerful, which the comparison still covers.
      expect(problems.filter((p) => !p.message.startsWith('roleRefPowerful cannot be used under not'))).toEqual([]);
      for (const [i, record] of records.entries()) {
        for (const f of i < canonical ? [undefined, facts] : [undefined]) {
          expect({ spec, record, answer: match(record, f) }).toEqual({ spec, record, answer: reference(spec, record, scope, f) });
          compared++;
        }
      }
    }
    expect(compared).toBe(conditions.length * (records.length + canonical));
  });

  it('matches both outcomes for every field condition (else the comparison above would prove little)', () => {
    for (const spec of fields.filter((c) => !('roleRefPowerful' in c) && !('macro' in c))) {
      const answers = new Set(records.map((r) => reference(spec, r, scope)));
      expect({ spec, answers: [...answers].sort() }).toEqual({ spec, answers: [false, true] });
    }
  });
});

describe('generated code and hostile rule text', () => {
  // Map-valued fields (annotations, user.extra) accept any key, and rule files come from users: a key or a value
  // crafted to end a string literal must stay data in the generated function, never become code.
  const hostile = ['"); globalThis.__kauditInjected = 1; ("', "'); globalThis.__kauditInjected = 1; ('", '`${globalThis.__kauditInjected = 1}`', '\\"); globalThis.__kauditInjected = 1; //', '\u2028globalThis.__kauditInjected = 1'];
  it('embeds keys and values as data: the condition reads exactly that key, and nothing runs', () => {
    const scope: CompileScope = { lists: {}, macros: {}, problems: [] };
    for (const text of hostile) {
      const predicate = compileCondition({ field: `annotations.${text}`, equals: text }, scope, ['condition']);
      const record = sampleAuditRecord({ annotations: { [text]: text } });
      expect(predicate(record)).toBe(true);
      expect(predicate(sampleAuditRecord({ annotations: { other: text } }))).toBe(false);
      expect(compileCondition({ field: 'verb', in: [text], prefix: text, contains: text }, scope, ['condition'])(record)).toBe(false);
    }
    expect((globalThis as Record<string, unknown>).__kauditInjected).toBeUndefined();
  });
});
