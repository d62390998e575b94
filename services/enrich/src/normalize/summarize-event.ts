import type { AuditRecord } from '@kaudit/audit-schema';

/**
 * The one-line human summary of an event (issue 17), stored with it and shown by `kaudit tail`, `ask history`
 * and `ask actor`: "Deng Wei deleted Deployment web/nginx in prod-eu-1", "kube-state-metrics was refused list
 * secrets (403) in prod-eu-1". Built from fields already in the record — names, never body values — so it
 * carries nothing the record does not already show.
 */
export type SummaryInput = Pick<AuditRecord, 'cluster' | 'verb' | 'objectRef' | 'response' | 'user' | 'actor' | 'operation'>;

/** Kinds of the common resources; others read as their resource name (CRDs, rare built-ins). */
const KINDS: Readonly<Record<string, string>> = {
  pods: 'Pod', deployments: 'Deployment', replicasets: 'ReplicaSet', statefulsets: 'StatefulSet', daemonsets: 'DaemonSet', jobs: 'Job', cronjobs: 'CronJob',
  services: 'Service', ingresses: 'Ingress', configmaps: 'ConfigMap', secrets: 'Secret', namespaces: 'Namespace', nodes: 'Node',
  serviceaccounts: 'ServiceAccount', persistentvolumeclaims: 'PersistentVolumeClaim', persistentvolumes: 'PersistentVolume', networkpolicies: 'NetworkPolicy',
  roles: 'Role', rolebindings: 'RoleBinding', clusterroles: 'ClusterRole', clusterrolebindings: 'ClusterRoleBinding', leases: 'Lease', events: 'Event',
  customresourcedefinitions: 'CustomResourceDefinition',
};

const PAST: Readonly<Record<string, string>> = {
  get: 'read', list: 'listed', watch: 'watched', create: 'created', update: 'updated', patch: 'patched', delete: 'deleted', deletecollection: 'deleted all',
};

/** What an operation class says better than its verb, for a request on one named object. */
const OPERATION_PHRASE: Readonly<Record<string, (what: string) => string>> = {
  cordon: (w) => `cordoned ${w}`,
  uncordon: (w) => `uncordoned ${w}`,
  drain: (w) => `drained ${w}`,
  evict: (w) => `evicted ${w}`,
  scale: (w) => `scaled ${w}`,
  'image-change': (w) => `changed the image of ${w}`,
  'rollout-restart': (w) => `restarted ${w}`,
  exec: (w) => `exec'd into ${w}`,
  attach: (w) => `attached to ${w}`,
  'port-forward': (w) => `port-forwarded to ${w}`,
  proxy: (w) => `proxied to ${w}`,
  'token-request': (w) => `requested a token for ${w}`,
};

export function summarizeEvent(r: SummaryInput): string {
  const who = r.actor.displayName || r.user.username || 'someone';
  const resource = r.objectRef.resource ?? '';
  const name = r.objectRef.name;
  const ns = r.objectRef.namespace;
  const where = ` in ${r.cluster}`;
  const code = r.response.code;
  if (!resource) return `${who} ${r.verb} ${r.objectRef.subresource ?? ''}`.trimEnd() + `${code !== null && code >= 400 ? ` (${code})` : ''}${where}`;
  // Pods and nodes read better in lower case ("exec'd into pod x"); a kind names the object otherwise.
  const kind = KINDS[resource] ?? resource;
  const named = name ? `${kind} ${ns ? `${ns}/` : ''}${name}` : undefined;
  const collection = `${resource}${ns ? ` in ${ns}` : ''}`;
  if (code !== null && code >= 400) {
    const tried = `${r.verb} ${named ?? collection}${r.objectRef.subresource ? ` (${r.objectRef.subresource})` : ''}`;
    return code === 401 || code === 403 ? `${who} was refused ${tried} (${code})${where}` : `${who} failed to ${tried} (${code})${where}`;
  }
  const phrase = OPERATION_PHRASE[r.operation];
  if (phrase && named) return `${who} ${phrase(named)}${where}`;
  const past = PAST[r.verb] ?? r.verb;
  const sub = r.objectRef.subresource ? ` ${r.objectRef.subresource} of` : '';
  return `${who} ${past}${sub} ${named ?? collection}${where}`;
}
