import { describe, expect, it } from 'vitest';
import { detectProvider, type ProviderHints } from './detect-provider.js';

function hints(username: string | undefined, extra: ProviderHints['extra'] = {}): ProviderHints {
  return { username, extra, groups: [], userAgent: undefined };
}

describe('detectProvider', () => {
  it.each([
    [hints('arn:aws:sts::123456789012:assumed-role/Admin/alice'), 'eks'],
    [hints('kubernetes-admin', { sessionName: ['alice'], arn: ['arn:aws:sts::1:assumed-role/A/alice'] }), 'eks'],
    [hints('eks:node-manager'), 'eks'],
    [hints('ci@proj.iam.gserviceaccount.com'), 'gke'],
    [hints('alice@example.com', { 'iam.gke.io/user-assertion': ['x'] }), 'gke'],
    [hints('system:gke-controller'), 'gke'],
    [hints('3f0b6c1e-8d2a-4f9b-a1c7-5e6d7f8a9b0c'), 'aks'],
    [hints('aksService'), 'aks'],
    [hints('carol@contoso.com', { oid: ['3f0b6c1e-8d2a-4f9b-a1c7-5e6d7f8a9b0c'] }), 'aks'],
    [hints('100012347138'), 'tke'],
    [hints('system:serviceaccount:kube-system:default'), 'native'],
    [hints('alice@example.com'), 'native'],
    [hints(undefined), 'native'],
  ])('%o → %s', (h, expected) => {
    expect(detectProvider(h)).toBe(expected);
  });

  it('the provider an import format declared wins over what the username suggests (issue 15 §3)', () => {
    expect(detectProvider({ ...hints('alice@example.com'), declared: 'gke' })).toBe('gke');
    expect(detectProvider({ ...hints('aad:eve@example.com'), declared: 'aks' })).toBe('aks');
    // Anything else in the annotation is ignored, not trusted.
    expect(detectProvider({ ...hints('alice@example.com'), declared: 'mainframe' })).toBe('native');
  });
});
