import { describe, expect, it } from 'vitest';
import { isKauditError } from '@kaudit/errors';
import { parseDirectory } from './directory.js';

describe('parseDirectory', () => {
  it('YAML: exact ids (case-insensitive) beat patterns; patterns in file order; namespace globs', () => {
    const dir = parseDirectory(
      `
identities:
  - pattern: "arn:aws:sts::123456789012:assumed-role/Deployer/*"
    displayName: CI deployer
    team: platform
    kind: controller
  - id: USER:alice@example.com
    displayName: Alice
    team: web
  - pattern: "user:*@example.com"
    team: example-staff
namespaces:
  payments: payments
  "team-a-*": team-a
`,
      'yaml',
      'dir.yaml',
    );
    expect(dir.lookup(['user:alice@example.com'])).toMatchObject({ displayName: 'Alice', team: 'web' });
    expect(dir.lookup(['user:bob@example.com'])).toMatchObject({ team: 'example-staff' });
    expect(dir.lookup(['aws:1:role/Deployer/run-1', 'arn:aws:sts::123456789012:assumed-role/Deployer/run-1'])).toMatchObject({ kind: 'controller' });
    expect(dir.lookup(['user:nobody'])).toBeUndefined();
    expect(dir.teamForNamespace('payments')).toBe('payments');
    expect(dir.teamForNamespace('team-a-dev')).toBe('team-a');
    expect(dir.teamForNamespace('other')).toBeNull();
    expect(dir.teamForNamespace(null)).toBeNull();
  });

  it('CSV with a header row; empty cells are absent', () => {
    const dir = parseDirectory('id,pattern,displayName,email,team,kind\ntke:100012347138,,Wang Wei,wang.wei@example.com,infra,\n,entra:*,,,azure-users,human\n', 'csv', 'dir.csv');
    expect(dir.lookup(['tke:100012347138'])).toEqual({ displayName: 'Wang Wei', email: 'wang.wei@example.com', team: 'infra', kind: undefined });
    expect(dir.lookup(['entra:abc'])).toMatchObject({ team: 'azure-users', kind: 'human' });
  });

  it('names every problem of an invalid file', () => {
    let err: unknown;
    try {
      parseDirectory('identities:\n  - displayName: nobody\n  - id: x\n    kind: robot\n', 'yaml', 'bad.yaml');
    } catch (e) {
      err = e;
    }
    expect(isKauditError(err, 'CONFIG_INVALID')).toBe(true);
    expect((err as Error).message).toMatch(/bad\.yaml/);
    expect((err as Error).message).toMatch(/identities\.0.*exactly one of `id` or `pattern`/);
    expect((err as Error).message).toMatch(/identities\.1\.kind/);
  });

  it('rejects malformed YAML with a clear error', () => {
    expect(() => parseDirectory('identities: [', 'yaml', 'x.yaml')).toThrowError(/x\.yaml is not valid YAML/);
  });
});
