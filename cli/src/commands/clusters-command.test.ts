import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ClusterDirectory } from '@kaudit/ingest';
import { createLogger } from '@kaudit/logging';
import { buildProgram } from '../build-program.js';
import { repoPaths } from '../repo-paths.js';

async function run(args: string[], env: Record<string, string> = {}): Promise<{ out: string; code: number }> {
  const lines: string[] = [];
  let code = 0;
  const logger = createLogger({ service: 'test', level: 'silent', destination: new Writable({ write: (_c, _e, done) => done() }) });
  const program = buildProgram({ env, paths: repoPaths(), logger, out: (t) => lines.push(t), setExitCode: (c) => (code = c) });
  program.exitOverride();
  await program.parseAsync(['node', 'kaudit', ...args]);
  return { out: lines.join('\n'), code };
}

interface Kubeconfig {
  clusters: { cluster: { server: string } }[];
  users: { user: { token?: string; 'client-certificate'?: string } }[];
}

/** The kubeconfig document in the command's output (the lines between the comment blocks). */
function printedKubeconfig(out: string): Kubeconfig {
  const start = out.indexOf('apiVersion: v1');
  const end = out.indexOf('\n\n', start);
  const docs = parseAllDocuments(out.slice(start, end));
  if (!Array.isArray(docs) || docs[0] === undefined) throw new Error(`no kubeconfig in output:\n${out}`);
  return docs[0].toJS() as Kubeconfig;
}

describe('kaudit clusters add', () => {
  it('stores only the new token hash in clusters.yaml and prints a kubeconfig whose token ingest then accepts for that cluster', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kaudit-clusters-'));
    const file = join(dir, 'clusters.yaml');
    const { out, code } = await run(['clusters', 'add', 'prod-eu', '--server', 'https://kaudit.example.com', '--clusters-file', file]);
    expect(code).toBe(0);
    const kubeconfig = printedKubeconfig(out);
    const token = kubeconfig.users[0]?.user.token ?? '';
    expect(token.length).toBeGreaterThanOrEqual(40);
    expect(kubeconfig.clusters[0]?.cluster.server).toBe('https://kaudit.example.com/v1/clusters/prod-eu/audit');
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain(token);
    expect(statSync(file).mode & 0o077).toBe(0);
    const clusters = ClusterDirectory.parse(text, file, {});
    expect(clusters.authenticate('prod-eu', { bearerToken: token })).toMatchObject({ ok: true, cluster: 'prod-eu' });
    expect(clusters.authenticate('prod-eu', { bearerToken: `${token}x` }).ok).toBe(false);
    expect(out).toContain('--audit-webhook-config-file=/etc/kubernetes/audit/kaudit-webhook.yaml');
    expect(out).toContain('--audit-webhook-batch-max-wait=5s');
  });

  it('keeps the comments and other clusters of an existing file, and a second add rotates: old and new token both work', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kaudit-clusters-'));
    const file = join(dir, 'clusters.yaml');
    writeFileSync(file, '# our clusters\nclusters:\n  staging:\n    # the old apiserver\n    clientCertCommonNames: [apiserver-staging]\n');
    const first = printedKubeconfig((await run(['clusters', 'add', 'prod-us', '--server', 'https://k.example.com'], { CLUSTERS_FILE: file })).out);
    const second = printedKubeconfig((await run(['clusters', 'add', 'prod-us', '--server', 'https://k.example.com'], { CLUSTERS_FILE: file })).out);
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('# our clusters');
    expect(text).toContain('# the old apiserver');
    const clusters = ClusterDirectory.parse(text, file, {});
    expect(clusters.authenticate('staging', { certCommonName: 'apiserver-staging' }).ok).toBe(true);
    for (const k of [first, second]) expect(clusters.authenticate('prod-us', { bearerToken: k.users[0]?.user.token }).ok).toBe(true);
  });

  it('with --client-cert-cn adds the certificate name instead of a token and prints an mTLS kubeconfig', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kaudit-clusters-'));
    const file = join(dir, 'clusters.yaml');
    const out = join(dir, 'kaudit-webhook.yaml');
    const { out: printed } = await run(['clusters', 'add', 'edge-1', '--server', 'https://k.example.com', '--clusters-file', file, '--client-cert-cn', 'apiserver-edge-1', '--kubeconfig-out', out]);
    const kubeconfig = printedKubeconfig(printed);
    expect(kubeconfig.users[0]?.user.token).toBeUndefined();
    expect(kubeconfig.users[0]?.user['client-certificate']).toBe('/etc/kubernetes/pki/kaudit-client.crt');
    expect(readFileSync(out, 'utf8')).toContain('client-key: /etc/kubernetes/pki/kaudit-client.key');
    const clusters = ClusterDirectory.parse(readFileSync(file, 'utf8'), file, {});
    expect(clusters.authenticate('edge-1', { certCommonName: 'apiserver-edge-1' })).toMatchObject({ ok: true, cluster: 'edge-1' });
  });

  it('refuses a bad cluster name or server URL with a message naming it, and writes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kaudit-clusters-'));
    const file = join(dir, 'clusters.yaml');
    await expect(run(['clusters', 'add', 'Prod_EU!', '--server', 'https://k.example.com', '--clusters-file', file])).rejects.toThrow(/cluster name "Prod_EU!"/);
    await expect(run(['clusters', 'add', 'prod', '--server', 'https://k.example.com/v1/clusters/prod/audit', '--clusters-file', file])).rejects.toThrow(/base URL/);
    await expect(run(['clusters', 'add', 'prod', '--server', 'not a url', '--clusters-file', file])).rejects.toThrow(/not a URL/);
    expect(existsSync(file)).toBe(false);
  });
});
