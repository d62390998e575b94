import { describe, expect, it } from 'vitest';
import type { OperationClass } from '@kaudit/audit-schema';
import { OPERATION_CLASSES } from '@kaudit/audit-schema';
import { classifyOperation, type OperationInput } from './classify-operation.js';

function op(partial: Partial<OperationInput> & Pick<OperationInput, 'verb'>): OperationInput {
  return { apiGroup: '', resource: 'pods', subresource: null, requestObject: undefined, clientName: 'kubectl', ...partial };
}

const CASES: [string, OperationInput, OperationClass][] = [
  ['get', op({ verb: 'get' }), 'read'],
  ['list', op({ verb: 'list' }), 'list'],
  ['watch', op({ verb: 'watch' }), 'watch'],
  ['create', op({ verb: 'create' }), 'create'],
  ['update', op({ verb: 'update', requestObject: { kind: 'Pod', metadata: { name: 'a' } } }), 'update'],
  ['patch', op({ verb: 'patch', requestObject: { metadata: { labels: { a: 'b' } } } }), 'patch'],
  ['delete', op({ verb: 'delete' }), 'delete'],
  ['deletecollection', op({ verb: 'deletecollection' }), 'deletecollection'],
  ['cordon: strategic-merge patch', op({ verb: 'patch', resource: 'nodes', requestObject: { spec: { unschedulable: true } } }), 'cordon'],
  ['cordon: update of the Node object', op({ verb: 'update', resource: 'nodes', requestObject: { kind: 'Node', metadata: { name: 'n1' }, spec: { podCIDR: '10.0.0.0/24', unschedulable: true } } }), 'cordon'],
  ['cordon: JSON patch', op({ verb: 'patch', resource: 'nodes', requestObject: [{ op: 'replace', path: '/spec/unschedulable', value: true }] }), 'cordon'],
  ['uncordon: patch clearing the field (kubectl ≥1.x sends null)', op({ verb: 'patch', resource: 'nodes', requestObject: { spec: { unschedulable: null } } }), 'uncordon'],
  ['uncordon: update with unschedulable false', op({ verb: 'update', resource: 'nodes', requestObject: { kind: 'Node', spec: { unschedulable: false } } }), 'uncordon'],
  ['node label update is not an uncordon', op({ verb: 'update', resource: 'nodes', requestObject: { kind: 'Node', metadata: { labels: { a: 'b' } }, spec: {} } }), 'update'],
  ['drain: eviction by kubectl', op({ verb: 'create', subresource: 'eviction', requestObject: { kind: 'Eviction' } }), 'drain'],
  ['evict: eviction by a controller', op({ verb: 'create', subresource: 'eviction', clientName: 'cluster-autoscaler' }), 'evict'],
  ['exec', op({ verb: 'create', subresource: 'exec' }), 'exec'],
  ['exec over a get (websocket upgrade)', op({ verb: 'get', subresource: 'exec' }), 'exec'],
  ['attach', op({ verb: 'create', subresource: 'attach' }), 'attach'],
  ['port-forward', op({ verb: 'create', subresource: 'portforward' }), 'port-forward'],
  ['proxy', op({ verb: 'get', resource: 'services', subresource: 'proxy' }), 'proxy'],
  ['scale subresource', op({ verb: 'patch', apiGroup: 'apps', resource: 'deployments', subresource: 'scale', requestObject: { spec: { replicas: 0 } } }), 'scale'],
  ['scale: replicas-only patch', op({ verb: 'patch', apiGroup: 'apps', resource: 'statefulsets', requestObject: { spec: { replicas: 3 } } }), 'scale'],
  [
    'rollout restart',
    op({ verb: 'patch', apiGroup: 'apps', resource: 'deployments', requestObject: { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-11-20T10:00:00Z' } } } } } }),
    'rollout-restart',
  ],
  ['image change: kubectl set image', op({ verb: 'patch', apiGroup: 'apps', resource: 'deployments', requestObject: { spec: { template: { spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }] } } } } }), 'image-change'],
  ['image change: JSON patch on a pod', op({ verb: 'patch', requestObject: [{ op: 'replace', path: '/spec/containers/0/image', value: 'nginx:1.27' }] }), 'image-change'],
  ['rbac change', op({ verb: 'create', apiGroup: 'rbac.authorization.k8s.io', resource: 'clusterrolebindings' }), 'rbac-change'],
  ['rbac delete', op({ verb: 'delete', apiGroup: 'rbac.authorization.k8s.io', resource: 'roles' }), 'rbac-change'],
  ['rbac read is a read', op({ verb: 'get', apiGroup: 'rbac.authorization.k8s.io', resource: 'roles' }), 'read'],
  ['secret get', op({ verb: 'get', resource: 'secrets' }), 'secret-read'],
  ['secret list', op({ verb: 'list', resource: 'secrets' }), 'secret-read'],
  ['token request', op({ verb: 'create', resource: 'serviceaccounts', subresource: 'token' }), 'token-request'],
  ['impersonate', op({ verb: 'impersonate', apiGroup: '', resource: 'users' }), 'impersonate'],
  ['unknown verb', op({ verb: 'escalate', apiGroup: 'rbac.authorization.k8s.io', resource: 'clusterroles' }), 'other'],
];

describe('classifyOperation', () => {
  it.each(CASES)('%s', (_name, input, expected) => {
    expect(classifyOperation(input)).toBe(expected);
  });

  it('covers every operation class of the schema', () => {
    const covered = new Set(CASES.map(([, , c]) => c));
    expect(OPERATION_CLASSES.filter((c) => !covered.has(c))).toEqual([]);
  });

  it('a cordon at Metadata level (no body) can only be a patch', () => {
    expect(classifyOperation(op({ verb: 'patch', resource: 'nodes' }))).toBe('patch');
  });
});
