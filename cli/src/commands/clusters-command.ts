import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { KauditError } from '@kaudit/errors';
import type { CliDeps } from '../build-program.js';
import { addClusterEntry, type ClusterCredential } from './add-cluster-entry.js';
import { APISERVER_AUDIT_DIR, apiserverFlags, webhookKubeconfig, type WebhookAuth } from './webhook-kubeconfig.js';

export interface ClustersAddOptions {
  server: string;
  clustersFile?: string;
  clientCertCn?: string;
  clientCert: string;
  clientKey: string;
  caFile?: string;
  kubeconfigOut?: string;
}

/** Writes a file next to itself first, then renames it into place: a crash never leaves half a file. */
function writeAtomically(path: string, text: string, mode: number): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, path);
  chmodSync(path, mode);
}

/**
 * `kaudit clusters add <name>`: gives a cluster an identity ingest accepts (a new token, stored only
 * as its SHA-256, or a client certificate's CN), and prints everything its apiserver needs.
 */
export function clustersAdd(deps: CliDeps, name: string, o: ClustersAddOptions): void {
  const file = resolve(o.clustersFile ?? deps.env.CLUSTERS_FILE ?? 'clusters.yaml');
  const existing = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  const token = o.clientCertCn === undefined ? randomBytes(32).toString('base64url') : undefined;
  const credential: ClusterCredential = token !== undefined ? { sha256: createHash('sha256').update(token).digest('hex') } : { commonName: o.clientCertCn ?? '' };
  const auth: WebhookAuth = token !== undefined ? { token } : { clientCertificate: o.clientCert, clientKey: o.clientKey };
  let caData: string | undefined;
  if (o.caFile !== undefined) {
    const pem = readFileSync(o.caFile, 'utf8');
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new KauditError('INPUT_INVALID', `--ca-file ${o.caFile} holds no PEM certificate`);
    caData = Buffer.from(pem).toString('base64');
  }
  // Build everything before writing anything: a bad --server must not leave a cluster behind.
  const kubeconfig = webhookKubeconfig({ cluster: name, server: o.server, auth, ...(caData ? { certificateAuthorityData: caData } : {}) });
  const { text, created } = addClusterEntry(existing, file, name, credential);
  writeAtomically(file, text, existing === undefined ? 0o600 : 0o644);
  if (o.kubeconfigOut !== undefined) writeAtomically(resolve(o.kubeconfigOut), kubeconfig, 0o600);

  const what = 'sha256' in credential ? `a token (stored as sha256 ${credential.sha256.slice(0, 12)}…)` : `client certificates with CN ${credential.commonName}`;
  deps.out(`# ${file}: cluster ${name} ${created ? 'added' : 'now also accepts'} ${what}.`);
  if (!created) deps.out('# Its other credentials stay valid until you remove them from the file (rotation).');
  deps.out('# Restart ingest (or update its clusters Secret) to load it.');
  if (token !== undefined) deps.out(`# The token is shown only here and in the kubeconfig below; kaudit keeps only its SHA-256.`);
  else deps.out(`# ingest needs INGEST_TLS_CLIENT_CA_FILE (the CA that signed ${o.clientCert}).`);
  if (caData === undefined && o.server.startsWith('https:')) deps.out('# No --ca-file: the node must already trust the CA of ingest\'s certificate.');
  deps.out('');
  deps.out(`# ${APISERVER_AUDIT_DIR}/kaudit-webhook.yaml on every control-plane node${o.kubeconfigOut ? ` (also written to ${o.kubeconfigOut})` : ''}:`);
  deps.out(kubeconfig.trimEnd());
  deps.out('');
  deps.out(`# kube-apiserver flags (audit policy: deploy/apiserver/audit-policy.yaml → ${APISERVER_AUDIT_DIR}/audit-policy.yaml):`);
  for (const flag of apiserverFlags()) deps.out(flag);
}

export function registerClustersCommand(program: Command, deps: CliDeps): void {
  const clusters = program.command('clusters').description('clusters allowed to send audit events to ingest');
  clusters
    .command('add <name>')
    .description('give a cluster a token (or client-certificate CN) in clusters.yaml; print its webhook kubeconfig and the apiserver flags')
    .requiredOption('--server <url>', "ingest's base URL as the apiserver reaches it, e.g. https://kaudit-ingest.example.com")
    .option('--clusters-file <path>', 'clusters.yaml to update (default: $CLUSTERS_FILE, else ./clusters.yaml; created if missing)')
    .option('--client-cert-cn <cn>', 'authenticate with a client certificate of this Common Name (mTLS) instead of a token')
    .option('--client-cert <path>', 'client certificate path on the apiserver host (with --client-cert-cn)', '/etc/kubernetes/pki/kaudit-client.crt')
    .option('--client-key <path>', 'client key path on the apiserver host (with --client-cert-cn)', '/etc/kubernetes/pki/kaudit-client.key')
    .option('--ca-file <path>', "CA certificate (PEM) that signed ingest's TLS certificate, embedded in the kubeconfig")
    .option('--kubeconfig-out <path>', 'also write the webhook kubeconfig to this file (mode 0600)')
    .action((name: string, options: ClustersAddOptions) => clustersAdd(deps, name, options));
}
