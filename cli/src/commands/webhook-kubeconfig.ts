import { stringify } from 'yaml';
import { KauditError } from '@kaudit/errors';

/** How the apiserver proves which cluster it is: a bearer token, or a client certificate (mTLS). */
export type WebhookAuth = { token: string } | { clientCertificate: string; clientKey: string };

export interface WebhookKubeconfigOptions {
  cluster: string;
  /** ingest's base URL as the apiserver reaches it, e.g. https://kaudit-ingest.example.com */
  server: string;
  /** base64 PEM of the CA that signed ingest's certificate; omitted when the node already trusts it. */
  certificateAuthorityData?: string;
  auth: WebhookAuth;
}

/** The webhook URL of one cluster: `<server>/v1/clusters/<cluster>/audit`. */
export function webhookUrl(server: string, cluster: string): string {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new KauditError('INPUT_INVALID', `--server ${server} is not a URL (e.g. https://kaudit-ingest.example.com)`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new KauditError('INPUT_INVALID', `--server ${server}: only http(s) URLs`);
  if (url.pathname.includes('/v1/clusters')) throw new KauditError('INPUT_INVALID', `--server ${server}: give ingest's base URL; kaudit appends /v1/clusters/<name>/audit`);
  if (url.search !== '' || url.hash !== '') throw new KauditError('INPUT_INVALID', `--server ${server}: no query or fragment`);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}/v1/clusters/${cluster}/audit`;
}

/**
 * The kube-apiserver's audit webhook config for one cluster (--audit-webhook-config-file), in the
 * kubeconfig format the apiserver reads.
 */
export function webhookKubeconfig(o: WebhookKubeconfigOptions): string {
  const user = 'token' in o.auth ? { token: o.auth.token } : { 'client-certificate': o.auth.clientCertificate, 'client-key': o.auth.clientKey };
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'kaudit',
        cluster: { server: webhookUrl(o.server, o.cluster), ...(o.certificateAuthorityData ? { 'certificate-authority-data': o.certificateAuthorityData } : {}) },
      },
    ],
    users: [{ name: 'kube-apiserver', user }],
    contexts: [{ name: 'kaudit', context: { cluster: 'kaudit', user: 'kube-apiserver' } }],
    'current-context': 'kaudit',
  };
  return stringify(config);
}

/** Where the apiserver flags below expect the files (kubeadm layout; mount /etc/kubernetes/audit). */
export const APISERVER_AUDIT_DIR = '/etc/kubernetes/audit';

/**
 * The kube-apiserver flags that send audit events to kaudit (deploy/apiserver/README.md explains each):
 * batches of up to 400 events at most 5 s apart, retries from 10 s.
 */
export function apiserverFlags(dir = APISERVER_AUDIT_DIR): string[] {
  return [
    `--audit-policy-file=${dir}/audit-policy.yaml`,
    `--audit-webhook-config-file=${dir}/kaudit-webhook.yaml`,
    '--audit-webhook-version=audit.k8s.io/v1',
    '--audit-webhook-mode=batch',
    '--audit-webhook-batch-max-size=400',
    '--audit-webhook-batch-max-wait=5s',
    '--audit-webhook-batch-buffer-size=10000',
    '--audit-webhook-batch-throttle-qps=10',
    '--audit-webhook-batch-throttle-burst=15',
    '--audit-webhook-initial-backoff=10s',
  ];
}
