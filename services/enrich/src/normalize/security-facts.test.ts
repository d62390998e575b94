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

  it('recognises credential shapes in ConfigMap values under innocent keys (issue 15 §2)', () => {
    const data = {
      'aws.env': 'region=eu-west-1\nkey_id=AKIAQ7K2M4X9T1B8Z3R6\n',
      'sts.env': 'ASIAZ9Y8X7W6V5U4T3S2',
      'gpg.asc': '-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQOYBF...',
      'ssh.txt': '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA',
      'signing.conf': 'keyfile=/etc/k.pem\npassphrase = correct-horse-battery',
      'app.yaml': 'database:\n  url: postgres://orders:Tr0ub4dor@db.shop.svc:5432/orders\n',
      'settings.json': '{"upstream":"https://api.example.com","password": "s3cr3t-v4lue"}',
      'client.ini': 'header = Authorization: Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0ffeeddcc',
      'jwt.txt': 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjaS1ib3QifQ.Q2Vyd2l0aEFTaWduYXR1cmVIZXJl',
    };
    const facts = deriveSecurityFacts({ kind: 'ConfigMap', data }, undefined, 'configmaps');
    expect(facts.credentialLikeKeys.sort()).toEqual(Object.keys(data).sort());
  });

  it('binaryData is decoded before it is looked at', () => {
    const binaryData = { 'blob.bin': Buffer.from('-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE').toString('base64') };
    expect(deriveSecurityFacts({ kind: 'ConfigMap', binaryData }, undefined, 'configmaps').credentialLikeKeys).toEqual(['blob.bin']);
  });

  it('does not take ordinary configuration for a credential', () => {
    const data = {
      'nginx.conf': 'server { listen 8080; location / { proxy_pass http://web.shop.svc:8080/; } }',
      'redis.url': 'redis://cache.shop.svc:6379/0',
      'links.txt': 'docs at https://docs.example.com:8443/start and mailto:ops@example.com',
      'policy.yaml': 'password_min_length = 12\nrequire_mfa: true',
      'templated.yaml': 'password: ${DB_PASSWORD}\ntoken: {{ .Values.token }}',
      'akia.txt': 'AKIA is a prefix; AKIAshort is not a key',
      'certs.pem.txt': '-----BEGIN CERTIFICATE-----\nMIIB...',
      'compass.json': '{"bypass_cache": true, "compass": "north"}',
      'shell.env': 'PWD=/srv/app\nHOME=/srv',
    };
    expect(deriveSecurityFacts({ kind: 'ConfigMap', data }, undefined, 'configmaps').credentialLikeKeys).toEqual([]);
  });
});
