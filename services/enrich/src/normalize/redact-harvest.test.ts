import { describe, expect, it } from 'vitest';
import { harvestCredentialValues } from './redact-harvest.js';

function harvest(bodies: unknown[], annotations: Record<string, string> = {}): string[] {
  const into = new Set<string>();
  harvestCredentialValues(bodies, annotations, into);
  return [...into].sort();
}

describe('harvestCredentialValues (the leak check\'s own rule)', () => {
  it('values under data/stringData/binaryData/token at any depth, base64 decoded too', () => {
    expect(harvest([{ kind: 'Foo', spec: { nested: { stringData: { a: 'plain-value-1' } } }, data: { b: 'c2VjcmV0LXZhbHVlLTk5' } }])).toEqual(['c2VjcmV0LXZhbHVlLTk5', 'plain-value-1', 'secret-value-99']);
  });

  it('JSON patch values by their path, embedded JSON, apply YAML text and webhook patch annotations', () => {
    const annotation = JSON.stringify({ configuration: 'c', webhook: 'w', patch: [{ op: 'add', path: '/data/x', value: 'from-webhook-1' }] });
    expect(
      harvest(
        [[{ op: 'replace', path: '/stringData/token', value: 'from-json-patch' }, { op: 'add', path: '/metadata/labels/a', value: 'label-value-kept' }], 'stringData:\n  p: from-apply-yaml\n'],
        { 'patch.webhook.admission.k8s.io/round_0_index_0': annotation, 'example.com/copy': '{"data":{"k":"from-embedded-1"}}' },
      ),
    ).toEqual(['from-apply-yaml', 'from-embedded-1', 'from-json-patch', 'from-webhook-1']);
  });
});
