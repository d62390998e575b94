/**
 * Which credential-bearing kind a request addresses, decided by the request (objectRef, and the
 * requestURI) — never by the body, which can name any kind or none (issue 11: `"kind":"secret"`,
 * `"kind":"Foo"`, kindless List items and subresource bodies all leaked while the body decided).
 */

/** Kinds whose values never leave the raw topic. */
export type SensitiveKind = 'Secret' | 'ConfigMap' | 'TokenReview' | 'TokenRequest';

export const NO_SENSITIVE_KINDS: ReadonlySet<SensitiveKind> = new Set<SensitiveKind>();

/** What the apiserver recorded about the request's target. */
export interface RedactionTarget {
  resource: string | null;
  subresource: string | null;
  /** Consulted too, so an event without (or with a partial) objectRef still names its resource. */
  requestURI?: string | undefined;
}

const NAMESPACE_SUBRESOURCES: ReadonlySet<string> = new Set(['status', 'finalize']);

/** The resource (and subresource) a Kubernetes API path addresses, or nulls for non-resource URLs. */
export function parseRequestURI(requestURI: string): { resource: string | null; subresource: string | null } {
  const none = { resource: null, subresource: null };
  const path = requestURI.split(/[?#]/, 1)[0] ?? '';
  const segments = path.split('/').filter((s) => s !== '').map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  });
  // /api/{version}/... (core group) or /apis/{group}/{version}/...
  let rest: string[];
  if (segments[0] === 'api') rest = segments.slice(2);
  else if (segments[0] === 'apis') rest = segments.slice(3);
  else return none;
  // The deprecated /watch/ prefix (…/watch/namespaces/ns/secrets) addresses the same resource.
  if (rest[0] === 'watch') rest = rest.slice(1);
  // namespaces/{ns}/{resource}/… — but /namespaces/{name}[/status|/finalize] is the Namespace itself
  // (as the apiserver's RequestInfoFactory splits it).
  if (rest[0] === 'namespaces' && rest.length >= 3 && !NAMESPACE_SUBRESOURCES.has(rest[2] ?? '')) rest = rest.slice(2);
  return { resource: rest[0] ?? null, subresource: rest[2] ?? null };
}

const SENSITIVE_RESOURCE_IN_URI = /secrets|configmaps|tokenreviews|serviceaccounts/i;

function kindOfResource(resource: string | null, subresource: string | null): SensitiveKind | undefined {
  // Any API group: a same-named resource elsewhere is treated alike, because erring this way only hides data.
  switch (resource?.toLowerCase()) {
    // Every subresource of a Secret (status, or one an aggregated API adds) has a Secret for a body.
    case 'secrets':
      return 'Secret';
    case 'configmaps':
      return 'ConfigMap';
    case 'tokenreviews':
      return 'TokenReview';
    case 'serviceaccounts':
      return subresource?.toLowerCase() === 'token' ? 'TokenRequest' : undefined;
    default:
      return undefined;
  }
}

/**
 * The sensitive kinds the request addresses: from objectRef and from the requestURI (both, so an
 * inconsistent event errs toward redacting).
 */
export function sensitiveKindsOf(target: RedactionTarget): ReadonlySet<SensitiveKind> {
  const fromRef = kindOfResource(target.resource, target.subresource);
  // Most URIs name none of these: a substring test spares parsing them on the hot path.
  const uri = target.requestURI === undefined || !SENSITIVE_RESOURCE_IN_URI.test(target.requestURI) ? undefined : parseRequestURI(target.requestURI);
  const fromUri = uri ? kindOfResource(uri.resource, uri.subresource) : undefined;
  if (fromRef === undefined && fromUri === undefined) return NO_SENSITIVE_KINDS;
  return new Set([fromRef, fromUri].filter((k): k is SensitiveKind => k !== undefined));
}

const BODY_KINDS: Readonly<Record<string, SensitiveKind>> = {
  secret: 'Secret',
  configmap: 'ConfigMap',
  tokenreview: 'TokenReview',
  tokenrequest: 'TokenRequest',
};

/**
 * A sensitive kind a body names about itself (any letter case). It can only add redaction to what
 * the request decided, never take it away.
 */
export function sensitiveKindOfBody(kind: unknown): SensitiveKind | undefined {
  return typeof kind === 'string' ? BODY_KINDS[kind.toLowerCase()] : undefined;
}

/** The item kind a typed list names (`SecretList` → Secret). */
export function sensitiveItemKindOfList(kind: unknown): SensitiveKind | undefined {
  if (typeof kind !== 'string' || !/list$/i.test(kind)) return undefined;
  return BODY_KINDS[kind.slice(0, -'list'.length).toLowerCase()];
}
