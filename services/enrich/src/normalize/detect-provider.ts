import type { Provider } from '@kaudit/audit-schema';

export interface ProviderHints {
  username: string | undefined;
  extra: Readonly<Record<string, readonly string[]>>;
  groups: readonly string[];
  userAgent: string | undefined;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const AKS_SYSTEM_USERS: ReadonlySet<string> = new Set(['aksService', 'masterclient', 'nodeclient', 'aks-support', 'aksProblemDetector']);

/**
 * Which cloud an event came from, from the identity it carries. Events with no cloud marker (a
 * service account, a node) are `native` unless the cluster's provider is configured, which is why
 * config wins in the caller.
 */
export function detectProvider(h: ProviderHints): Provider {
  const u = h.username ?? '';
  const extraKeys = Object.keys(h.extra);
  if (u.startsWith('arn:aws:') || u.startsWith('eks:') || extraKeys.some((k) => k === 'arn' || k === 'canonicalArn' || k === 'accessKeyId' || k === 'sessionName' || k === 'principalId')) return 'eks';
  if (u.endsWith('.gserviceaccount.com') || u.startsWith('system:gke-') || u.startsWith('system:gcp-') || extraKeys.some((k) => k.includes('user-assertion.cloud.google.com') || k.startsWith('iam.gke.io/'))) return 'gke';
  if (GUID.test(u) || AKS_SYSTEM_USERS.has(u) || extraKeys.some((k) => k === 'oid' || k.includes('schemas.microsoft.com/identity/claims'))) return 'aks';
  if (/^\d{6,}(-\d+)?$/.test(u)) return 'tke';
  return 'native';
}
