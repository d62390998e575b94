import { describe, expect, it } from 'vitest';
import type { UserRef } from './actor.js';
import { DirectoryIndex } from './directory.js';
import { IdentityResolver } from './identity-resolver.js';

const ARN = 'arn:aws:sts::123456789012:assumed-role/Admin/alice-session';
const users: UserRef[] = [
  { username: 'kubernetes-admin', groups: [], extra: {} },
  // The same username, told apart only by the user.extra values the built-in parse reads.
  { username: 'kubernetes-admin', groups: [], extra: { arn: [ARN] } },
  { username: 'kubernetes-admin', groups: [], extra: { arn: [ARN], sessionName: ['bob'] } },
  { username: 'kubernetes-admin', groups: [], extra: { arn: [''] } },
  { username: 'kubernetes-admin', groups: [], extra: { canonicalArn: ['arn:aws:iam::123456789012:role/Admin'] } },
  { username: '0f4a2b6e-3c1d-4e5f-8a9b-0c1d2e3f4a5b', groups: [], extra: { oid: ['other-oid'] } },
  { username: '0f4a2b6e-3c1d-4e5f-8a9b-0c1d2e3f4a5b', groups: [], extra: {} },
  { username: 'system:serviceaccount:payments:api', groups: [], extra: { 'authentication.kubernetes.io/pod-name': ['api-1'] } },
  { username: 'alice@example.com', groups: ['devs'], extra: {} },
];

describe('IdentityResolver, resolving the same identities again', () => {
  it('gives each user the actor a fresh resolver gives it, however often and in whatever order they come', () => {
    // The file knows one Entra object id only by the oid extra (the username's own id is not in it).
    const file = new DirectoryIndex({ identities: [{ id: 'other-oid', pattern: undefined, displayName: 'Entra Someone', email: undefined, team: 'identity' }], namespaces: {} });
    const resolver = new IdentityResolver({ directory: () => file });
    const expected = users.map((u) => new IdentityResolver({ directory: () => file }).resolve(u));
    for (let round = 0; round < 3; round++) {
      const order = round === 1 ? [...users.keys()].reverse() : [...users.keys()];
      for (const i of order) expect(resolver.resolve(users[i] as UserRef), `${i} in round ${round}`).toEqual(expected[i]);
    }
    // The cases differ (the test would not tell a cache keyed on the username alone otherwise): all but one pair
    // (users 0 and 3: an empty arn reads as no arn, the parse falls through to the username as without one).
    expect(expected[5]).toMatchObject({ resolvedBy: 'directory-file', team: 'identity' });
    expect(new Set(expected.map((a) => JSON.stringify(a))).size).toBe(users.length - 1);
  });

  it('answers from the directory file as it is now: a reload (a new index) applies at once to users seen before', () => {
    let index = DirectoryIndex.empty();
    const counted: string[] = [];
    const resolver = new IdentityResolver({ directory: () => index, onResolved: (by) => counted.push(by) });
    const alice = users[8] as UserRef;
    expect(resolver.resolve(alice)).toMatchObject({ resolvedBy: 'unresolved', team: null });
    index = new DirectoryIndex({ identities: [{ id: 'user:alice@example.com', pattern: undefined, displayName: 'Alice', email: undefined, team: 'web' }], namespaces: {} });
    expect(resolver.resolve(alice)).toMatchObject({ resolvedBy: 'directory-file', team: 'web', displayName: 'Alice' });
    expect(resolver.resolve(alice)).toMatchObject({ resolvedBy: 'directory-file', team: 'web' });
    index = DirectoryIndex.empty();
    expect(resolver.resolve(alice)).toMatchObject({ resolvedBy: 'unresolved', team: null });
    // Every resolution is counted, answered from the cache or not.
    expect(counted).toEqual(['unresolved', 'directory-file', 'directory-file', 'unresolved']);
  });
});
