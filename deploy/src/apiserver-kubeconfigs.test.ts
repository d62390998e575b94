import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { webhookKubeconfig } from 'kaudit';
import { ensureKubeTools } from './kube-tools.js';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const CACHE = join(REPO, '.kaudit', 'cache');

interface KubeconfigView {
  clusters: { name: string; cluster: { server: string; 'certificate-authority-data'?: string; 'certificate-authority'?: string } }[];
  users: { name: string; user: { token?: string; 'client-certificate'?: string; 'client-key'?: string } }[];
  'current-context': string;
}

describe('apiserver webhook kubeconfigs, loaded by the real kubectl', () => {
  let kubectl = '';
  beforeAll(async () => {
    ({ kubectl } = await ensureKubeTools(CACHE, 'helm4'));
  }, 300_000);

  /** What kubectl makes of a kubeconfig file (it refuses files the apiserver's loader would refuse). */
  async function view(file: string): Promise<KubeconfigView> {
    const { stdout } = await run(kubectl, ['config', 'view', '--kubeconfig', file, '--raw', '-o', 'json']);
    return JSON.parse(stdout) as KubeconfigView;
  }

  it.each([
    ['webhook-kubeconfig.yaml', 'token'],
    ['webhook-kubeconfig-mtls.yaml', 'client-certificate'],
  ] as const)('deploy/apiserver/%s loads and points at a cluster webhook URL with a %s', async (file, credential) => {
    const config = await view(join(REPO, 'deploy', 'apiserver', file));
    expect(config.clusters[0]?.cluster.server).toMatch(/^https:\/\/[^/]+\/v1\/clusters\/[a-z0-9._-]+\/audit$/);
    expect(config['current-context']).toBe('kaudit');
    expect(config.users[0]?.user[credential]).toBeTruthy();
  }, 60_000);

  it('loads what `kaudit clusters add` prints, for a token and for mTLS with an embedded CA', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kaudit-kubeconfig-'));
    const ca = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString('base64');
    const cases = [
      webhookKubeconfig({ cluster: 'prod-eu', server: 'https://kaudit.example.com', auth: { token: 'tok-123' } }),
      webhookKubeconfig({ cluster: 'staging', server: 'https://kaudit.example.com:8443/', certificateAuthorityData: ca, auth: { clientCertificate: '/etc/kubernetes/pki/c.crt', clientKey: '/etc/kubernetes/pki/c.key' } }),
    ];
    const [token, mtls] = await Promise.all(
      cases.map(async (text, i) => {
        const file = join(dir, `k${i}.yaml`);
        writeFileSync(file, text);
        return view(file);
      }),
    );
    expect(token?.clusters[0]?.cluster.server).toBe('https://kaudit.example.com/v1/clusters/prod-eu/audit');
    expect(token?.users[0]?.user.token).toBe('tok-123');
    expect(mtls?.clusters[0]?.cluster.server).toBe('https://kaudit.example.com:8443/v1/clusters/staging/audit');
    expect(mtls?.clusters[0]?.cluster['certificate-authority-data']).toBe(ca);
    expect(mtls?.users[0]?.user['client-key']).toBe('/etc/kubernetes/pki/c.key');
  }, 60_000);
});
