import { describe, expect, it } from 'vitest';
import { applyJsonPatch, applyMergePatch, diffObjects, formatChange, patchedFields } from './field-diff.js';
import { changeLines, type HistoryEvent } from './object-history.js';

// Objects written from the Kubernetes API reference (apps/v1 Deployment, core/v1 Node, core/v1 Secret).
function deployment(replicas: number, image: string, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'nginx', namespace: 'web', resourceVersion: String(1000 + replicas), generation: replicas, labels: { app: 'nginx' } },
    spec: { replicas, selector: { matchLabels: { app: 'nginx' } }, template: { metadata: { labels: { app: 'nginx' } }, spec: { containers: [{ name: 'nginx', image, ports: [{ containerPort: 80 }] }, { name: 'sidecar', image: 'envoy:1.30' }] } } },
    status: { replicas, readyReplicas: replicas },
    ...extra,
  };
}

describe('diffObjects', () => {
  it('names each changed field with its old and new value, ignoring bookkeeping (resourceVersion, generation, status)', () => {
    const lines = diffObjects(deployment(3, 'nginx:1.25'), deployment(0, 'nginx:1.27')).map(formatChange);
    expect(lines).toEqual(['spec.replicas 3 → 0', 'spec.template.spec.containers[nginx].image nginx:1.25 → nginx:1.27']);
  });

  it('shows added and removed fields', () => {
    const before = { metadata: { labels: { app: 'nginx', tier: 'web' } }, spec: { unschedulable: false } };
    const after = { metadata: { labels: { app: 'nginx' } }, spec: { unschedulable: true, taints: [{ key: 'maint', effect: 'NoSchedule' }] } };
    expect(diffObjects(before, after).map(formatChange)).toEqual([
      'metadata.labels.tier web → (removed)',
      'spec.taints (none) → [{"key":"maint","effect":"NoSchedule"}]',
      'spec.unschedulable false → true',
    ]);
  });

  it('matches named list items by name, so a reordered or added container is not a change of every index', () => {
    const a = { spec: { containers: [{ name: 'a', image: 'x:1' }, { name: 'b', image: 'y:1' }] } };
    const b = { spec: { containers: [{ name: 'b', image: 'y:1' }, { name: 'a', image: 'x:2' }, { name: 'c', image: 'z:1' }] } };
    expect(diffObjects(a, b).map(formatChange)).toEqual(['spec.containers[a].image x:1 → x:2', 'spec.containers[c] (none) → {"name":"c","image":"z:1"}']);
  });

  it('keeps redacted values redacted: a Secret key that changed or appeared reads [redacted] on both sides', () => {
    const before = { kind: 'Secret', metadata: { name: 'db' }, data: { password: '[redacted]' } };
    const after = { kind: 'Secret', metadata: { name: 'db' }, data: { password: '[redacted]', token: '[redacted]' } };
    expect(diffObjects(before, after).map(formatChange)).toEqual(['data.token (none) → [redacted]']);
    expect(patchedFields({ data: { password: '[redacted]' } }).map(formatChange)).toEqual(['data.password → [redacted]']);
  });

  it('cuts long values', () => {
    expect(formatChange({ path: 'spec.x', from: 'a'.repeat(100), to: 1 })).toBe(`spec.x ${'a'.repeat(59)}… → 1`);
  });
});

describe('patches', () => {
  it('applies a strategic merge patch: named lists merge by name, null deletes, directives are skipped', () => {
    const patched = applyMergePatch(deployment(3, 'nginx:1.25'), {
      metadata: { labels: { app: null } },
      spec: { template: { spec: { $setElementOrder$containers: [{ name: 'nginx' }], containers: [{ name: 'nginx', image: 'nginx:1.27' }] } } },
    });
    expect(diffObjects(deployment(3, 'nginx:1.25'), patched).map(formatChange)).toEqual([
      'metadata.labels.app nginx → (removed)',
      'spec.template.spec.containers[nginx].image nginx:1.25 → nginx:1.27',
    ]);
  });

  it('applies a JSON patch', () => {
    const patched = applyJsonPatch(deployment(3, 'nginx:1.25'), [
      { op: 'replace', path: '/spec/replicas', value: 5 },
      { op: 'add', path: '/metadata/labels/team', value: 'web' },
      { op: 'test', path: '/spec/replicas', value: 5 },
    ]);
    expect(diffObjects(deployment(3, 'nginx:1.25'), patched).map(formatChange)).toEqual(['metadata.labels.team (none) → web', 'spec.replicas 3 → 5']);
  });

  it('lists what a patch sets when the object before it is unknown', () => {
    expect(patchedFields({ spec: { unschedulable: true } }).map(formatChange)).toEqual(['spec.unschedulable → true']);
    expect(patchedFields({ spec: { template: { spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }] } } } }).map(formatChange)).toEqual(['spec.template.spec.containers[nginx].image → nginx:1.27']);
    expect(patchedFields([{ op: 'remove', path: '/metadata/labels/tier' }]).map(formatChange)).toEqual(['metadata.labels.tier → (removed)']);
  });
});

describe('objectChanges over a history', () => {
  const e = (over: Partial<HistoryEvent>): HistoryEvent => ({ cluster: 'prod-eu-1', namespace: 'web', verb: 'get', subresource: '', code: 200, request_object: '', response_object: '', ...over });

  it('follows the object from body to body: each write is diffed against the state before it', () => {
    const lines = changeLines([
      e({ verb: 'create', code: 201, request_object: JSON.stringify(deployment(3, 'nginx:1.25')), response_object: JSON.stringify(deployment(3, 'nginx:1.25')) }),
      e({ verb: 'patch', request_object: '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.27"}]}}}}', response_object: JSON.stringify(deployment(3, 'nginx:1.27')) }),
      // Denied and Metadata-level requests change nothing that can be shown.
      e({ verb: 'patch', code: 403, request_object: '{"spec":{"replicas":9}}' }),
      e({ verb: 'get' }),
      // A patch without a response body: applied to the known state.
      e({ verb: 'patch', request_object: '{"spec":{"replicas":0}}' }),
      e({ verb: 'delete', request_object: '{"kind":"DeleteOptions","apiVersion":"meta.k8s.io/v1","propagationPolicy":"Background"}' }),
      // Recreated: nothing known before it, so a patch lists what it sets.
      e({ verb: 'patch', request_object: '{"spec":{"replicas":2}}' }),
    ]);
    expect(lines).toEqual([[], ['spec.template.spec.containers[nginx].image nginx:1.25 → nginx:1.27'], [], [], ['spec.replicas 3 → 0'], [], ['spec.replicas → 2']]);
  });

  it('keeps objects of different clusters apart, reads a state from a get, and survives a truncated body', () => {
    const lines = changeLines([
      e({ cluster: 'a', verb: 'get', response_object: JSON.stringify(deployment(3, 'nginx:1.25')) }),
      e({ cluster: 'b', verb: 'patch', request_object: '{"spec":{"replicas":1}}' }),
      e({ cluster: 'a', verb: 'patch', subresource: 'scale', request_object: '{"spec":{"replicas":1}}' }),
      e({ cluster: 'a', verb: 'update', request_object: '{"apiVersion":"apps/v1","kind":"Deploy', response_object: '' }),
    ]);
    expect(lines).toEqual([[], ['spec.replicas → 1'], ['spec.replicas 3 → 1'], []]);
  });
});
