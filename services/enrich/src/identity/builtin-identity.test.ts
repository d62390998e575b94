import { describe, expect, it } from 'vitest';
import { parseBuiltinIdentity } from './builtin-identity.js';
import type { UserRef } from './actor.js';

function user(username: string | undefined, extra: UserRef['extra'] = {}): UserRef {
  return { username, groups: [], extra };
}

describe('parseBuiltinIdentity', () => {
  it.each([
    ['system:serviceaccount:payments:api', { id: 'sa:payments:api', kind: 'serviceaccount', displayName: 'payments/api', resolvedBy: 'builtin' }],
    ['system:serviceaccount:kube-system:deployment-controller', { id: 'sa:kube-system:deployment-controller', kind: 'controller', resolvedBy: 'builtin' }],
    ['system:node:ip-10-0-1-23.ec2.internal', { id: 'node:ip-10-0-1-23.ec2.internal', kind: 'node', resolvedBy: 'builtin' }],
    ['system:anonymous', { id: 'anonymous', kind: 'anonymous', resolvedBy: 'builtin' }],
    ['system:kube-scheduler', { id: 'system:kube-scheduler', kind: 'controller', resolvedBy: 'builtin' }],
    ['system:apiserver', { id: 'system:apiserver', kind: 'controller', resolvedBy: 'builtin' }],
    ['system:kube-proxy', { kind: 'controller' }],
    ['system:gke-common-webhooks', { id: 'system:gke-common-webhooks', kind: 'system', resolvedBy: 'builtin' }],
    ['eks:certificate-controller', { id: 'eks:certificate-controller', kind: 'controller', resolvedBy: 'builtin' }],
    ['arn:aws:iam::123456789012:user/ops/bob', { id: 'aws:123456789012:user/bob', kind: 'human', account: '123456789012', resolvedBy: 'unresolved' }],
    ['arn:aws:sts::123456789012:assumed-role/Deployer/gh-actions-run-42', { id: 'aws:123456789012:role/Deployer/gh-actions-run-42', displayName: 'gh-actions-run-42', account: '123456789012' }],
    ['ci-bot@my-proj.iam.gserviceaccount.com', { id: 'gcp-sa:ci-bot@my-proj.iam.gserviceaccount.com', kind: 'serviceaccount', account: 'my-proj', email: 'ci-bot@my-proj.iam.gserviceaccount.com' }],
    ['Alice@Example.com', { id: 'user:alice@example.com', kind: 'human', email: 'alice@example.com' }],
    ['3F0B6C1E-8D2A-4F9B-A1C7-5E6D7F8A9B0C', { id: 'entra:3f0b6c1e-8d2a-4f9b-a1c7-5e6d7f8a9b0c', kind: 'unknown' }],
    ['100012347138', { id: 'tke:100012347138', account: '100012347138', kind: 'human' }],
    ['100012347138-1700000000', { id: 'tke:100012347138', account: '100012347138' }],
    ['kubernetes-admin', { id: 'user:kubernetes-admin', kind: 'human', resolvedBy: 'unresolved' }],
    // AKS's own control-plane identities are system accounts, not people (issue 15 §3).
    ['aksService', { id: 'aks:aksService', kind: 'system', displayName: 'aksService', resolvedBy: 'builtin' }],
    ['masterclient', { id: 'aks:masterclient', kind: 'system', resolvedBy: 'builtin' }],
    ['nodeclient', { id: 'aks:nodeclient', kind: 'system', resolvedBy: 'builtin' }],
    ['aks-support', { kind: 'system', resolvedBy: 'builtin' }],
    ['aksProblemDetector', { kind: 'system', resolvedBy: 'builtin' }],
  ])('%s', (username, expected) => {
    expect(parseBuiltinIdentity(user(username)).actor).toMatchObject(expected);
  });

  it('EKS: the session name from user.extra names the person behind a mapped username', () => {
    const parsed = parseBuiltinIdentity(
      user('kubernetes-admin', {
        arn: ['arn:aws:sts::111122223333:assumed-role/EKSAdmin/1700000000000000000'],
        sessionName: ['carol@example.com'],
      }),
    );
    expect(parsed.actor).toMatchObject({ id: 'aws:111122223333:role/EKSAdmin/carol@example.com', displayName: 'carol@example.com', email: 'carol@example.com', account: '111122223333' });
    expect(parsed.keys).toContain('kubernetes-admin');
    expect(parsed.keys).toContain('aws:111122223333:role/EKSAdmin');
    expect(parsed.remote).toBe(true);
  });

  it('no username is anonymous', () => {
    expect(parseBuiltinIdentity(user(undefined)).actor.kind).toBe('anonymous');
  });

  it('service accounts and nodes are not looked up in a people directory', () => {
    expect(parseBuiltinIdentity(user('system:serviceaccount:a:b')).remote).toBe(false);
    expect(parseBuiltinIdentity(user('bob@example.com')).remote).toBe(true);
  });
});
