import { describe, expect, it } from 'vitest';
import { sampleAuditRecord } from '@kaudit/audit-schema';
import { loadRuleSources } from './load-rules.js';

function load(text: string) {
  return loadRuleSources([{ file: 'rules/x.yaml', text }]);
}

const record = sampleAuditRecord({ verb: 'delete', objectRef: { ...sampleAuditRecord().objectRef, resource: 'deployments', name: 'nginx' } });

function matches(condition: string, r: unknown = record): boolean {
  const { rules, problems } = load(`rules:\n  - id: r\n    name: r\n    severity: low\n    output: x\n    match: ${condition}\n`);
  expect(problems).toEqual([]);
  return (rules[0] as NonNullable<(typeof rules)[0]>).match(r);
}

describe('conditions', () => {
  it('equals, in, prefix, contains, glob, regex, exists and numeric compare', () => {
    expect(matches('{ field: verb, equals: delete }')).toBe(true);
    expect(matches('{ field: verb, equals: get }')).toBe(false);
    expect(matches('{ field: verb, in: [create, delete] }')).toBe(true);
    expect(matches('{ field: objectRef.resource, prefix: deploy }')).toBe(true);
    expect(matches('{ field: objectRef.name, contains: gin }')).toBe(true);
    expect(matches('{ field: user.groups, contains: system:authenticated }')).toBe(true);
    expect(matches('{ field: user.groups, contains: system:masters }')).toBe(false);
    expect(matches('{ field: userAgent, glob: "kubectl/*" }')).toBe(true);
    expect(matches('{ field: requestURI, regex: "^/api/v1/namespaces/[^/]+/pods" }')).toBe(true);
    expect(matches('{ field: impersonatedUser, exists: false }')).toBe(true);
    expect(matches('{ field: objectRef.subresource, exists: true }')).toBe(false);
    expect(matches('{ field: response.code, gte: 200, lt: 300 }')).toBe(true);
    expect(matches('{ field: response.code, gt: 399 }')).toBe(false);
    // A number is never equal to its string form: the Sigma rules' responseStatus.code bug.
    expect(matches('{ field: response.code, equals: "200" }')).toBe(false);
  });

  it('all / any / not compose, lists and macros expand, map keys with dots resolve', () => {
    const r = sampleAuditRecord({ annotations: { 'pod-security.kubernetes.io/enforce': 'privileged' }, user: { ...sampleAuditRecord().user, extra: { sessionName: 'bob' } } });
    const text = `lists:
  mutating: [create, update, patch, delete]
macros:
  is_mutation: { field: verb, in: [{ list: mutating }] }
rules:
  - id: r
    name: r
    severity: low
    output: x
    match:
      all:
        - { macro: is_mutation }
        - not: { field: actor.kind, equals: serviceaccount }
        - any:
            - { field: annotations.pod-security.kubernetes.io/enforce, equals: privileged }
            - { field: user.extra.sessionName, equals: bob }
`;
    const { rules, problems } = load(text);
    expect(problems).toEqual([]);
    const rule = rules[0];
    expect(rule?.match({ ...r, verb: 'patch' })).toBe(true);
    expect(rule?.match({ ...r, verb: 'get' })).toBe(false);
    expect(rule?.match({ ...r, verb: 'patch', actor: { ...r.actor, kind: 'serviceaccount' } })).toBe(false);
  });

  it('structured exceptions exempt events without editing the condition', () => {
    const { rules } = load(`rules:
  - id: r
    name: r
    severity: low
    output: x
    match: { field: verb, equals: delete }
    exceptions:
      - name: ci in staging
        fields: { actor.id: [user:ci], objectRef.namespace: [staging] }
`);
    const rule = rules[0];
    const base = sampleAuditRecord({ verb: 'delete' });
    expect(rule?.excepted({ ...base, actor: { ...base.actor, id: 'user:ci' }, objectRef: { ...base.objectRef, namespace: 'staging' } })).toBe(true);
    expect(rule?.excepted({ ...base, actor: { ...base.actor, id: 'user:ci' }, objectRef: { ...base.objectRef, namespace: 'prod' } })).toBe(false);
  });
});

describe('problems carry file:line', () => {
  it('reports schema errors at the offending line', () => {
    const { problems } = load(`rules:
  - id: ok
    name: ok
    severity: low
    output: x
    match: { field: verb, equals: get }
  - id: Bad_Id
    name: bad
    severity: urgent
    output: x
    match: { field: verb, equals: get }
`);
    expect(problems.map((p) => `${p.file}:${p.line}`)).toEqual(expect.arrayContaining(['rules/x.yaml:7', 'rules/x.yaml:9']));
    expect(problems.find((p) => p.line === 9)?.message).toContain('rules.1.severity');
  });

  it('reports unknown macros and lists, duplicate ids and YAML syntax errors', () => {
    const { problems } = load(`rules:
  - id: a
    name: a
    severity: low
    output: x
    match: { macro: nope }
  - id: a
    name: b
    severity: low
    output: x
    match: { field: verb, in: [{ list: missing }] }
`);
    const text = problems.map((p) => `${p.line}: ${p.message}`);
    expect(text).toEqual(expect.arrayContaining([expect.stringMatching(/^6: unknown macro "nope"/), expect.stringMatching(/^7: rule id "a" is already used/), expect.stringMatching(/^11: unknown list "missing"/)]));
    const syntax = load('rules:\n  - id: a\n   name: [\n');
    expect(syntax.problems[0]?.line).toBeGreaterThan(0);
  });
});

describe('the verb/resource prefilter', () => {
  function prefilterOf(rule: string) {
    const { rules, problems } = load(`macros:\n  deleting: { field: verb, in: [delete, deletecollection] }\nrules:\n  - id: r\n    name: r\n    severity: low\n    output: x\n${rule}`);
    expect(problems).toEqual([]);
    const p = rules[0]?.prefilter;
    return { verb: p?.verb ? [...p.verb].sort() : undefined, resource: p?.resource ? [...p.resource].sort() : undefined };
  }

  it('pins what every match must have, through all, any and macros', () => {
    expect(prefilterOf('    match: { all: [{ macro: deleting }, { field: objectRef.resource, equals: deployments }] }\n')).toEqual({ verb: ['delete', 'deletecollection'], resource: ['deployments'] });
    expect(prefilterOf('    match: { any: [{ field: verb, equals: create }, { macro: deleting }] }\n')).toEqual({ verb: ['create', 'delete', 'deletecollection'], resource: undefined });
    expect(prefilterOf('    match: { all: [{ field: verb, in: [get, list] }, { field: verb, equals: list }] }\n')).toEqual({ verb: ['list'], resource: undefined });
  });

  it('pins nothing it cannot prove: not, an any with a free branch, other operators', () => {
    expect(prefilterOf('    match: { not: { field: verb, equals: get } }\n')).toEqual({ verb: undefined, resource: undefined });
    expect(prefilterOf('    match: { any: [{ field: verb, equals: create }, { field: response.code, equals: 403 }] }\n')).toEqual({ verb: undefined, resource: undefined });
    expect(prefilterOf('    match: { field: objectRef.resource, prefix: deploy }\n')).toEqual({ verb: undefined, resource: undefined });
  });

  it('for a sequence without match, takes the union of its steps', () => {
    const seq = '    sequence:\n      window: 5m\n      by: [actor.id]\n      steps:\n        - { name: a, match: { field: verb, equals: create } }\n        - { name: b, match: { macro: deleting } }\n';
    expect(prefilterOf(seq)).toEqual({ verb: ['create', 'delete', 'deletecollection'], resource: undefined });
  });
});
