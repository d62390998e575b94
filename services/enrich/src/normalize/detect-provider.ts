import { PROVIDERS, type Provider } from '@kaudit/audit-schema';
import { AKS_SYSTEM_USERS } from '../identity/aks-system-users.js';

export interface ProviderHints {
  username: string | undefined;
  extra: Readonly<Record<string, readonly string[]>>;
  groups: readonly string[];
  userAgent: string | undefined;
  /** What `kaudit import` read the event as (annotation PROVIDER_ANNOTATION), if anything. */
  declared?: string | undefined;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const KNOWN_PROVIDERS: ReadonlySet<string> = new Set(PROVIDERS);

/**
 * Which cloud an event came from, from the identity it carries. Events with no cloud marker (a
 * service account, a node) are `native` unless the cluster's provider is configured, which is why
 * config wins in the caller.
 */
export function detectProvider(h: ProviderHints): Provider {
  if (h.declared !== undefined && KNOWN_PROVIDERS.has(h.declared)) return h.declared as Provider;
  const u = h.username ?? '';
  const extraKeys = Object.keys(h.extra);
  if (u.startsWith('arn:aws:') || u.startsWith('eks:') || extraKeys.some((k) => k === 'arn' || k === 'canonicalArn' || k === 'accessKeyId' || k === 'sessionName' || k === 'principalId')) return 'eks';
  if (u.endsWith('.gserviceaccount.com') || u.startsWith('system:gke-') || u.startsWith('system:gcp-') || extraKeys.some((k) => k.includes('user-assertion.cloud.google.com') || k.startsWith('iam.gke.io/'))) return 'gke';
  if (GUID.test(u) || AKS_SYSTEM_USERS.has(u) || extraKeys.some((k) => k === 'oid' || k.includes('schemas.microsoft.com/identity/claims'))) return 'aks';
  if (/^\d{6,}(-\d+)?$/.test(u)) return 'tke';
  return 'native';
}
