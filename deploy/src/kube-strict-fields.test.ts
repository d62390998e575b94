import { describe, expect, it } from 'vitest';
import { unknownFieldProblems } from './kube-strict-fields.js';

const deployment = () => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', labels: { app: 'web' } },
  spec: {
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: { containers: [{ name: 'web', image: 'example/web:1', securityContext: { readOnlyRootFilesystem: true }, ports: [{ name: 'http', containerPort: 8080 }] }] },
    },
  },
});

describe('unknownFieldProblems', () => {
  it('accepts manifests that use only fields their kinds define', () => {
    const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http' }] } };
    expect(unknownFieldProblems([deployment(), service])).toEqual([]);
  }, 60_000);

  it('names a misspelt field deep inside a pod template, which the JSON schemas let through', () => {
    const d = deployment();
    const container = d.spec.template.spec.containers[0] as Record<string, unknown>;
    container.securityContext = { readOnlyRootFilesytem: true };
    const problems = unknownFieldProblems([d]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^apps\/v1\/Deployment web: .*readOnlyRootFilesytem/);
  }, 60_000);

  it('names a value of the wrong type and a kind it has no type for', () => {
    const d = deployment();
    (d.spec as Record<string, unknown>).replicas = 'two';
    const problems = unknownFieldProblems([d, { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }]);
    expect(problems.join('\n')).toMatch(/Deployment web: .*string.*number/);
    expect(problems).toContain('example.com/v1/Widget w: no type known for example.com/v1/Widget');
  }, 60_000);
});
