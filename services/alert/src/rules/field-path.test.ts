import { describe, expect, it } from 'vitest';
import { sampleAuditRecord } from '@kaudit/audit-schema';
import { fieldAccessor, getField } from './field-path.js';

/**
 * What a path means, written the slow way: at each level the whole remaining path is tried as an own key
 * before one step is taken (the accessor's contract, however it is compiled).
 */
function reference(record: unknown, path: string): unknown {
  const segments = path.split('.');
  let value: unknown = record;
  for (let i = 0; i < segments.length; i++) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    const rest = segments.slice(i).join('.');
    if (Object.hasOwn(value, rest)) return (value as Record<string, unknown>)[rest];
    const step = segments[i] as string;
    if (i === segments.length - 1 || !Object.hasOwn(value, step)) return undefined;
    value = (value as Record<string, unknown>)[step];
  }
  return value;
}

/** Every path to a value of `value`, leaves and the objects above them. */
function pathsOf(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  return Object.entries(value).flatMap(([k, v]) => {
    const path = prefix === '' ? k : `${prefix}.${k}`;
    return [path, ...pathsOf(v, path)];
  });
}

const records = [
  sampleAuditRecord(),
  sampleAuditRecord({
    annotations: { 'pod-security.kubernetes.io/enforce': 'privileged', 'authorization.k8s.io/reason': 'RBAC', plain: 'x' },
    user: { username: 'arn:aws:sts::1:assumed-role/admin/alice', uid: null, groups: ['a', 'b'], extra: { sessionName: 'alice', 'accessKeyId.k8s.io': 'AKIA' } },
    impersonatedUser: { username: 'system:serviceaccount:shop:deployer', uid: 'u', groups: [], extra: { 'x.y': 'z' } },
    sourceIPs: ['203.0.113.9', '10.0.0.1'],
  }),
];

describe('fieldAccessor', () => {
  it('reads every path of the canonical record as the whole-key-first rule says, map keys with dots included', () => {
    for (const record of records) {
      const paths = [
        ...pathsOf(record),
        'annotations.pod-security.kubernetes.io/enforce',
        'user.extra.accessKeyId.k8s.io',
        'impersonatedUser.extra.x.y',
        'impersonatedUser.username',
        'annotations.missing.key',
        'objectRef.nope',
        'nope',
        'verb.length',
        'sourceIPs.0',
      ];
      for (const path of paths) {
        expect({ path, value: fieldAccessor(path)(record) }).toEqual({ path, value: reference(record, path) });
        // The one-off read (not generated) means the same.
        expect({ path, value: getField(record, path) }).toEqual({ path, value: reference(record, path) });
      }
    }
  });

  it('finds a dotted key below a map field, and nothing below a null object or inside a string or array', () => {
    const [, rich] = records as [unknown, unknown];
    expect(getField(rich, 'annotations.pod-security.kubernetes.io/enforce')).toBe('privileged');
    expect(getField(rich, 'user.extra.accessKeyId.k8s.io')).toBe('AKIA');
    expect(getField(sampleAuditRecord(), 'impersonatedUser.username')).toBeUndefined();
    expect(getField(sampleAuditRecord(), 'verb.length')).toBeUndefined();
    expect(getField(sampleAuditRecord(), 'sourceIPs.0')).toBeUndefined();
  });

  it('never reads an inherited property', () => {
    for (const path of ['constructor', 'objectRef.constructor', 'annotations.toString', 'user.extra.__proto__', 'objectRef.hasOwnProperty']) {
      expect({ path, value: getField(sampleAuditRecord(), path) }).toEqual({ path, value: undefined });
      expect({ path, value: fieldAccessor(path)(sampleAuditRecord()) }).toEqual({ path, value: undefined });
    }
  });
});
