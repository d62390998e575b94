import { describe, expect, it } from 'vitest';
import { schemaProblems } from './kube-schema.js';

const service = () => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } });

describe('schemaProblems', () => {
  it('accepts a valid manifest', () => {
    expect(schemaProblems(service())).toEqual([]);
  });

  it('names a field of the wrong type', () => {
    const s = service();
    (s.spec.ports[0] as Record<string, unknown>).port = '80';
    expect(schemaProblems(s).join()).toMatch(/ports\/0\/port.*integer/);
  });

  it('names a missing required field', () => {
    const d = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { template: { spec: { containers: [{ image: 'x' }] } } } };
    expect(schemaProblems(d).join()).toMatch(/selector|name/);
  });

  it('refuses a kind it has no schema for instead of passing it', () => {
    expect(schemaProblems({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } })).toEqual(['no schema known for example.com/v1/Widget']);
  });
});
