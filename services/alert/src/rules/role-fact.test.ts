import { describe, expect, it } from 'vitest';
import { sampleAuditRecord, type AuditRecord } from '@kaudit/audit-schema';
import { loadRuleSources } from './load-rules.js';
import { roleFactKey, roleFactOf, roleRefKeyOf } from './role-fact.js';

const base = sampleAuditRecord();

function rbac(resource: string, o: { verb?: string; namespace?: string | null; name?: string; code?: number; stage?: string; request?: object; response?: object } = {}): AuditRecord {
  return {
    ...base,
    verb: o.verb ?? 'create',
    stage: o.stage ?? 'ResponseComplete',
    response: { ...base.response, code: o.code ?? 201 },
    objectRef: { ...base.objectRef, apiGroup: 'rbac.authorization.k8s.io', resource, namespace: o.namespace === undefined ? 'shop' : o.namespace, name: o.name ?? 'r' },
    requestObject: o.request === undefined ? null : JSON.stringify(o.request),
    responseObject: o.response === undefined ? null : JSON.stringify(o.response),
  };
}

const rules = (...verbs: string[]) => ({ kind: 'Role', rules: [{ apiGroups: [''], resources: ['pods'], verbs }] });

describe('roleFactOf', () => {
  it('names what makes a role powerful: * verbs or resources, escalate, bind, impersonate', () => {
    expect(roleFactOf(rbac('roles', { request: rules('get', 'escalate') }))).toEqual({ key: 'role-fact:prod-eu-1/Role/shop/r', powerful: ['verbs:escalate'] });
    expect(roleFactOf(rbac('clusterroles', { namespace: null, request: { rules: [{ resources: ['*'], verbs: ['get'] }, { resources: ['users'], verbs: ['impersonate', 'bind'] }] } }))).toEqual({
      key: 'role-fact:prod-eu-1/ClusterRole//r',
      powerful: ['resources:*', 'verbs:bind', 'verbs:impersonate'],
    });
    expect(roleFactOf(rbac('roles', { verb: 'update', request: rules('get', 'list') }))?.powerful).toEqual([]);
  });

  it('learns nothing from a refused write, a non-final stage, a subresource or a body without rules', () => {
    expect(roleFactOf(rbac('roles', { code: 403, request: rules('*') }))).toBeUndefined();
    expect(roleFactOf(rbac('roles', { stage: 'RequestReceived', request: rules('*') }))).toBeUndefined();
    expect(roleFactOf({ ...rbac('roles', { request: rules('*') }), objectRef: { ...rbac('roles').objectRef, subresource: 'status' } })).toBeUndefined();
    expect(roleFactOf(rbac('roles', { verb: 'update' }))).toBeUndefined();
    expect(roleFactOf(rbac('pods', { request: rules('*') }))).toBeUndefined();
  });

  it('a harmless patch proves nothing, a powerful one does; the stored role (response) wins; delete clears', () => {
    expect(roleFactOf(rbac('roles', { verb: 'patch', request: rules('get') }))).toBeUndefined();
    expect(roleFactOf(rbac('roles', { verb: 'patch', request: rules('*') }))?.powerful).toEqual(['verbs:*']);
    expect(roleFactOf(rbac('roles', { verb: 'patch', request: { metadata: { labels: { a: 'b' } } }, response: rules('bind') }))?.powerful).toEqual(['verbs:bind']);
    expect(roleFactOf(rbac('roles', { verb: 'patch', request: rules('*'), response: rules('get') }))?.powerful).toEqual([]);
    expect(roleFactOf(rbac('roles', { verb: 'delete', code: 200 }))).toEqual({ key: 'role-fact:prod-eu-1/Role/shop/r', powerful: [] });
  });
});

describe('roleRefKeyOf', () => {
  it('a RoleBinding refers to a Role in its own namespace or to a ClusterRole; a ClusterRoleBinding only to a ClusterRole', () => {
    expect(roleRefKeyOf(rbac('rolebindings', { request: { roleRef: { kind: 'Role', name: 'x' } } }))).toBe(roleFactKey('prod-eu-1', 'Role', 'shop', 'x'));
    expect(roleRefKeyOf(rbac('rolebindings', { request: { roleRef: { kind: 'ClusterRole', name: 'x' } } }))).toBe('role-fact:prod-eu-1/ClusterRole//x');
    expect(roleRefKeyOf(rbac('clusterrolebindings', { namespace: null, request: { roleRef: { kind: 'ClusterRole', name: 'x' } } }))).toBe('role-fact:prod-eu-1/ClusterRole//x');
    expect(roleRefKeyOf(rbac('clusterrolebindings', { namespace: null, request: { roleRef: { kind: 'Role', name: 'x' } } }))).toBeUndefined();
  });

  it('nothing for a refused binding, a delete, a body without roleRef or one that is not JSON', () => {
    expect(roleRefKeyOf(rbac('rolebindings', { code: 403, request: { roleRef: { kind: 'Role', name: 'x' } } }))).toBeUndefined();
    expect(roleRefKeyOf(rbac('rolebindings', { verb: 'delete', code: 200 }))).toBeUndefined();
    expect(roleRefKeyOf(rbac('rolebindings', { request: { subjects: [] } }))).toBeUndefined();
    expect(roleRefKeyOf({ ...rbac('rolebindings'), requestObject: '{"roleRef":' })).toBeUndefined();
  });
});

describe('roleRefPowerful in rule files', () => {
  const rule = (match: string, extra = '') => `rules:\n  - id: r\n    name: r\n    severity: low\n    output: x\n    match: ${match}\n${extra}`;
  const messages = (text: string) => loadRuleSources([{ file: 'rules/x.yaml', text }]).problems.map((p) => `${p.line}: ${p.message}`);

  it('asks the role facts it is given', () => {
    const { rules: [compiled], problems } = loadRuleSources([{ file: 'x.yaml', text: rule('{ roleRefPowerful: true }') }]);
    expect(problems).toEqual([]);
    const binding = rbac('rolebindings', { request: { roleRef: { kind: 'Role', name: 'x' } } });
    expect(compiled?.usesRoleFacts).toBe(true);
    expect(compiled?.match(binding, { isPowerful: (k) => k === 'role-fact:prod-eu-1/Role/shop/x' })).toBe(true);
    expect(compiled?.match(binding, { isPowerful: () => false })).toBe(false);
    expect(compiled?.match(binding)).toBe(false);
  });

  it('is refused under not (directly or through a macro), in threshold and sequence rules, and as false', () => {
    expect(messages(rule('{ not: { roleRefPowerful: true } }'))).toEqual([expect.stringMatching(/^6: roleRefPowerful cannot be used under not/)]);
    expect(messages(`macros:\n  p: { roleRefPowerful: true }\n${rule('{ not: { macro: p } }')}`)).toEqual([expect.stringContaining('roleRefPowerful cannot be used under not')]);
    expect(messages(rule('{ roleRefPowerful: true }', '    threshold: { count: 2, window: 1m }\n'))).toEqual(['6: roleRefPowerful cannot be used in a threshold or sequence rule']);
    expect(messages(rule('{ roleRefPowerful: false }')).length).toBeGreaterThan(0);
  });
});
