import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { fastAcceptAuditEvent } from './fast-accept-audit-event.js';
import { auditEventSchema } from './k8s-audit-event.js';

/**
 * The fast check is only sound if it never accepts what zod refuses, and returns what zod would:
 * these tests hold it to that over valid events, every field of the schema's shape set to a battery
 * of wrong and right values, and random events. They walk the zod shape itself, so a field added to
 * k8s-audit-event.ts with a constraint the fast check does not know fails here.
 */

const base: Record<string, unknown>[] = [
  {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID: '6f1c2a0e-1b7d-4c1e-9f3a-2d4b5c6d7e8f',
    stage: 'ResponseComplete',
    requestURI: '/api/v1/namespaces/default/pods/web-0',
    verb: 'delete',
    user: { username: 'alice@example.com', uid: 'u-1', groups: ['system:authenticated'], extra: { 'authentication.kubernetes.io/credential-id': ['X509SHA256=ab'] } },
    sourceIPs: ['10.0.0.7'],
    userAgent: 'kubectl/v1.31.0 (linux/amd64) kubernetes/abc',
    objectRef: { resource: 'pods', namespace: 'default', name: 'web-0', apiVersion: 'v1' },
    responseStatus: { metadata: {}, code: 200 },
    requestReceivedTimestamp: '2026-12-01T09:59:00.123456Z',
    stageTimestamp: '2026-12-01T09:59:00.200001Z',
    annotations: { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': '' },
  },
  {
    apiVersion: 'audit.k8s.io/v1',
    level: 'RequestResponse',
    auditID: 'a-2',
    stage: 'ResponseComplete',
    requestURI: '/api/v1/namespaces/prod/secrets',
    verb: 'create',
    user: { username: 'system:serviceaccount:ci:deployer' },
    impersonatedUser: { username: 'bob', groups: [] },
    objectRef: { resource: 'secrets', namespace: 'prod', name: 'db', apiGroup: '', subresource: 'status', uid: 'x', resourceVersion: '7' },
    requestObject: { kind: 'Secret', apiVersion: 'v1', data: { password: 'aHVudGVyMg==' } },
    responseObject: [{ op: 'add', path: '/x', value: null }],
    responseStatus: { code: 0, status: 'Success', message: 'ok', reason: '' },
    requestReceivedTimestamp: '2026-12-01T09:59:00+02:00',
    stageTimestamp: '2026-12-01T09:59:00.1-05:30',
    metadata: { creationTimestamp: '2026-12-01T09:59:00Z', extra: 1 },
    someFutureField: { anything: [1, 'two'] },
  },
  // v1beta1 with only `timestamp`: both times come from it (the preprocess step).
  { apiVersion: 'audit.k8s.io/v1beta1', kind: 'Event', level: 'Request', auditID: 'b-3', stage: 'RequestReceived', requestURI: '/healthz', verb: 'get', user: {}, timestamp: '2017-12-01T09:59:00Z' },
];

type Verdict = 'fast-accepts-same' | 'left-to-zod';

/** The property: fast acceptance implies zod acceptance with the same data. Throws otherwise. */
function verdict(value: unknown): Verdict {
  const fast = fastAcceptAuditEvent(value);
  if (fast === undefined) return 'left-to-zod';
  const zod = auditEventSchema.safeParse(value);
  if (!zod.success) throw new Error(`fast check accepted what zod refuses: ${zod.error.message} — ${String(JSON.stringify(value))}`);
  if (!isDeepStrictEqual(fast, zod.data)) throw new Error(`fast check returned other data than zod: ${String(JSON.stringify(value))}`);
  return 'fast-accepts-same';
}

/** Own `__proto__` keys (JSON.parse makes them; a literal would set the prototype instead). */
const protoKey = (inner: string) => JSON.parse(`{"__proto__": ${inner}}`) as unknown;

const battery: unknown[] = [
  undefined, null, true, false, 0, -0, 1, -1, 1.5, 200, 999, 1000, 70_000, Number.NaN, Number.POSITIVE_INFINITY,
  '', 'x', 'Event', 'List', 'Metadata', 'None', 'Request', 'RequestResponse', 'Panic', 'RequestReceived', 'ResponseComplete', 'ResponseStarted',
  'audit.k8s.io/v1', 'audit.k8s.io/v1beta1', 'audit.k8s.io/v2',
  '2026-12-01T09:59:00Z', '2026-12-01T09:59:00.123456789+01:00', '2026-12-01T09:59:00.1234567890Z', '2026-12-01 09:59:00Z', '2026-12-01T09:59:00', '2026-12-01T09:59:00Z\n', '２026-12-01T09:59:00Z',
  [], ['a'], ['a', 1], [null], [['a']], new Array(2),
  {}, { a: 'b' }, { a: ['b'] }, { a: 1 }, { a: [1] }, { a: null }, protoKey('"x"'), protoKey('{}'), { [Symbol('s')]: 'x' }, Object.create(null) as unknown, new Date(0), new Map(),
];

interface ObjectLike {
  shape: Record<string, z.ZodType>;
}

/** The object schema under optional/pipe wrappers, or undefined for a leaf. */
function objectShape(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  let s: unknown = schema;
  for (let i = 0; i < 5 && s !== undefined; i++) {
    const def = (s as { def?: { type?: string; innerType?: unknown; out?: unknown } }).def;
    if (def?.type === 'object') return (s as ObjectLike).shape;
    s = def?.type === 'optional' ? def.innerType : def?.type === 'pipe' ? def.out : undefined;
  }
  return undefined;
}

/** Every field path of the schema, nested objects included (`user.groups`, `responseStatus.code`…). */
function fieldPaths(shape: Record<string, z.ZodType>, prefix: string[] = []): string[][] {
  return Object.entries(shape).flatMap(([key, schema]) => {
    const nested = objectShape(schema);
    return [[...prefix, key], ...(nested ? fieldPaths(nested, [...prefix, key]) : [])];
  });
}

/** A copy of `event` with `path` set to `value` (undefined: the key removed), parents made when missing. */
function withField(event: Record<string, unknown>, path: string[], value: unknown): Record<string, unknown> {
  const copy = structuredClone(event);
  let node: Record<string, unknown> = copy;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  const last = path.at(-1) as string;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return copy;
}

const topShape = objectShape(auditEventSchema as unknown as z.ZodType);

describe('fastAcceptAuditEvent (the hot-path twin of auditEventSchema)', () => {
  it('reaches the schema shape (else the walk below would test nothing)', () => {
    expect(topShape).toBeDefined();
    const paths = fieldPaths(topShape ?? {}).map((p) => p.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['auditID', 'user.extra', 'responseStatus.code', 'metadata.creationTimestamp', 'timestamp']));
  });

  it('accepts the valid events itself, with zod’s data (so the fast path is the one taken)', () => {
    for (const event of base) expect(verdict(event)).toBe('fast-accepts-same');
  });

  it('never accepts what zod refuses, field by field of the schema, over a battery of values', () => {
    let leftToZod = 0;
    for (const event of base) {
      for (const path of fieldPaths(topShape ?? {})) {
        for (const value of battery) if (verdict(withField(event, path, value)) === 'left-to-zod') leftToZod++;
        // A key the schema declares, added inside every object the event holds.
        if (verdict(withField(event, [...path.slice(0, -1), '__proto__'], 'x')) === 'left-to-zod') leftToZod++;
      }
    }
    // The battery holds many wrong values for every field: most must have been handed to zod.
    expect(leftToZod).toBeGreaterThan(1000);
  });

  it('never accepts what zod refuses, over random events', () => {
    const pick = fc.oneof(fc.constantFrom(...battery), fc.jsonValue(), fc.anything());
    const fieldArb = fc.constantFrom(...fieldPaths(topShape ?? {}));
    fc.assert(
      fc.property(fc.constantFrom(...base), fc.array(fc.tuple(fieldArb, pick), { maxLength: 4 }), (event, edits) => {
        let mutated = event;
        for (const [path, value] of edits) mutated = withField(mutated, path, value);
        verdict(mutated);
      }),
      { numRuns: 3000 },
    );
    fc.assert(fc.property(fc.anything(), (v) => void verdict(v)), { numRuns: 1000 });
  });
});
