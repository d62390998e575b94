import type { AuditRecord } from '@kaudit/audit-schema';

/**
 * Role facts (issue 15 §2): which custom Roles/ClusterRoles are powerful, so a binding to one can
 * alert. A binding's body carries only `roleRef` (kind, name); the role's rules were in that role's
 * own create/update/patch event, usually on another partition (records are keyed cluster/user), so
 * facts are shared through the alert state topic (see AlertEvaluator) rather than kept per partition.
 */

/** What a rule condition asks: is the role this key names known to be powerful? */
export interface RoleFacts {
  isPowerful(roleKey: string): boolean;
}

/** Key prefix of role facts in the alert state topic (beside the window checkpoints). */
export const ROLE_FACT_PREFIX = 'role-fact:';

/** Verbs that lift a holder past RBAC; `*` resources grant every kind, Secrets included. */
const POWERFUL_VERBS = new Set(['*', 'escalate', 'bind', 'impersonate']);

/** A role write's outcome: `powerful` lists why (e.g. `verbs:*`), empty when it grants none of that. */
export interface RoleFact {
  key: string;
  powerful: string[];
}

type RecordLike = Pick<AuditRecord, 'cluster' | 'verb' | 'stage' | 'objectRef' | 'response' | 'requestObject' | 'responseObject'>;

/** `role-fact:<cluster>/<Role|ClusterRole>/<namespace>/<name>` (a ClusterRole's namespace is empty). */
export function roleFactKey(cluster: string, kind: 'Role' | 'ClusterRole', namespace: string | null, name: string): string {
  return `${ROLE_FACT_PREFIX}${cluster}/${kind}/${kind === 'Role' ? (namespace ?? '') : ''}/${name}`;
}

function parseObject(text: string | null): Record<string, unknown> | undefined {
  if (text === null) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((e): e is string => typeof e === 'string') : [];
}

/** Why a role body's `rules` are powerful (empty: not), or undefined when the body has no `rules`. */
export function powerfulReasons(body: Record<string, unknown>): string[] | undefined {
  if (!Array.isArray(body.rules)) return undefined;
  const reasons = new Set<string>();
  for (const rule of body.rules as unknown[]) {
    if (typeof rule !== 'object' || rule === null) continue;
    const r = rule as Record<string, unknown>;
    for (const verb of strings(r.verbs)) if (POWERFUL_VERBS.has(verb)) reasons.add(`verbs:${verb}`);
    if (strings(r.resources).includes('*')) reasons.add('resources:*');
  }
  return [...reasons].sort();
}

/** The completed, successful response of a request (one record per request; other stages repeat it). */
function succeeded(r: RecordLike): boolean {
  const code = r.response.code;
  return (r.stage === 'ResponseComplete' || r.stage === 'ResponseStarted') && code !== null && code >= 200 && code < 300;
}

/**
 * The fact a record establishes about a Role or ClusterRole, or undefined when it establishes none:
 * a refused or failed write grants nothing, and a patch whose body has no full `rules` (only the
 * change) says nothing about the rules it left alone. The response body (RequestResponse level) is
 * the role as stored and wins over the request; a delete makes the role not powerful.
 */
export function roleFactOf(r: RecordLike): RoleFact | undefined {
  const resource = r.objectRef.resource;
  if ((resource !== 'roles' && resource !== 'clusterroles') || r.objectRef.name === null || !succeeded(r)) return undefined;
  if (r.objectRef.subresource !== null) return undefined;
  const kind = resource === 'roles' ? 'Role' : 'ClusterRole';
  const key = roleFactKey(r.cluster, kind, r.objectRef.namespace, r.objectRef.name);
  if (r.verb === 'delete') return { key, powerful: [] };
  if (r.verb !== 'create' && r.verb !== 'update' && r.verb !== 'patch') return undefined;
  const response = parseObject(r.responseObject);
  const stored = response ? powerfulReasons(response) : undefined;
  if (stored !== undefined) return { key, powerful: stored };
  const request = parseObject(r.requestObject);
  const asked = request ? powerfulReasons(request) : undefined;
  if (asked === undefined) return undefined;
  // A patch body is a change: powerful rules in it made the role powerful, but rules absent from
  // it may still be in the role, so a harmless-looking patch proves nothing.
  if (r.verb === 'patch' && asked.length === 0) return undefined;
  return { key, powerful: asked };
}

/**
 * The role a successful RoleBinding/ClusterRoleBinding write refers to, as a fact key; undefined for
 * anything else. A RoleBinding's `Role` is in the binding's namespace; a ClusterRole is cluster-wide.
 */
export function roleRefKeyOf(r: RecordLike): string | undefined {
  const resource = r.objectRef.resource;
  if ((resource !== 'rolebindings' && resource !== 'clusterrolebindings') || r.objectRef.subresource !== null || !succeeded(r)) return undefined;
  if (r.verb !== 'create' && r.verb !== 'update' && r.verb !== 'patch') return undefined;
  const body = parseObject(r.responseObject) ?? parseObject(r.requestObject);
  const ref = body?.roleRef;
  if (typeof ref !== 'object' || ref === null) return undefined;
  const { kind, name } = ref as Record<string, unknown>;
  if (typeof name !== 'string' || name === '') return undefined;
  if (kind === 'ClusterRole') return roleFactKey(r.cluster, 'ClusterRole', null, name);
  if (kind === 'Role' && resource === 'rolebindings') return roleFactKey(r.cluster, 'Role', r.objectRef.namespace, name);
  return undefined;
}
