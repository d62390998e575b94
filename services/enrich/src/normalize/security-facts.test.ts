import { describe, expect, it } from 'vitest';
import { deriveSecurityFacts } from './security-facts.js';

describe('deriveSecurityFacts', () => {
  it('CronJob pod templates and hostIPC', () => {
    const cron = { kind: 'CronJob', spec: { jobTemplate: { spec: { template: { spec: { hostIPC: true, containers: [{ name: 'c', image: 'alpine:3.20' }] } } } } } };
    expect(deriveSecurityFacts(cron, undefined, 'cronjobs')).toMatchObject({ hostIPC: true, images: ['alpine:3.20'] });
  });

  it('wildcard and pod-exec roles', () => {
    const role = { kind: 'ClusterRole', rules: [{ apiGroups: [''], resources: ['pods/exec'], verbs: ['create'] }] };
    expect(deriveSecurityFacts(role, undefined, 'clusterroles')).toMatchObject({ podExecRole: true, wildcardRole: false });
    const star = { kind: 'Role', rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }] };
    expect(deriveSecurityFacts(star, undefined, 'roles')).toMatchObject({ podExecRole: true, wildcardRole: true });
  });

  it('a RoleBinding to cluster-admin counts; other bindings do not', () => {
    expect(deriveSecurityFacts({ kind: 'RoleBinding', roleRef: { name: 'cluster-admin' } }, undefined, 'rolebindings').clusterAdminBinding).toBe(true);
    expect(deriveSecurityFacts({ kind: 'RoleBinding', roleRef: { name: 'view' } }, undefined, 'rolebindings').clusterAdminBinding).toBe(false);
  });

  it('the response object is used when the request body was not logged', () => {
    const pod = { kind: 'Pod', spec: { containers: [{ name: 'a', image: 'nginx:1.27', securityContext: { privileged: true } }] } };
    expect(deriveSecurityFacts(undefined, pod, 'pods')).toMatchObject({ privileged: true, images: ['nginx:1.27'] });
  });

  it('ConfigMap values holding a private key count even under an innocent key name', () => {
    const cm = { kind: 'ConfigMap', data: { 'tls.txt': '-----BEGIN RSA PRIVATE KEY-----\nMIIE...', color: 'blue' } };
    expect(deriveSecurityFacts(cm, undefined, 'configmaps').credentialLikeKeys).toEqual(['tls.txt']);
  });
});
