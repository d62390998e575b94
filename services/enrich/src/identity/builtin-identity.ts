import type { Actor, UserRef } from './actor.js';
import { AKS_SYSTEM_USERS } from './aks-system-users.js';

/** A parsed identity: the actor as far as the username tells, and the keys directories are asked with. */
export interface BuiltinIdentity {
  actor: Actor;
  /**
   * Whether a remote directory may know more. False for service accounts, nodes and system users:
   * the username says all, and asking a people directory about them is wasted round trips.
   */
  remote: boolean;
  /** Directory lookup keys, most specific first (actor id, then raw username, email, ARN…). */
  keys: string[];
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const CONTROL_PLANE: ReadonlySet<string> = new Set(['system:kube-controller-manager', 'system:kube-scheduler', 'system:kube-proxy', 'system:apiserver', 'system:volume-scheduler']);

/**
 * The only user.extra keys the built-in parse reads (typed so: `first` takes no other). Without any of them the
 * username alone decides the built-in identity, which lets the resolver reuse it (IdentityResolver's cache).
 */
export const BUILTIN_EXTRA_KEYS = ['arn', 'canonicalArn', 'sessionName', 'oid'] as const;

function first(extra: UserRef['extra'], key: (typeof BUILTIN_EXTRA_KEYS)[number]): string | undefined {
  return extra[key]?.[0];
}

function actor(partial: Pick<Actor, 'id' | 'kind' | 'displayName'> & Partial<Actor>): Actor {
  return { email: null, team: null, account: null, resolvedBy: 'unresolved', ...partial };
}

function done(a: Actor, username: string): BuiltinIdentity {
  return { actor: { ...a, resolvedBy: 'builtin' }, remote: false, keys: [...new Set([a.id, username])].filter((k) => k !== '') };
}

function pending(a: Actor, ...keys: (string | undefined)[]): BuiltinIdentity {
  const unique = [...new Set([a.id, ...keys].filter((k): k is string => k !== undefined && k !== ''))];
  return { actor: a, remote: true, keys: unique };
}

/**
 * AWS IAM ARN → actor. Assumed-role sessions are the person (or job) behind the session name;
 * the role alone is shared by many people, so the session is part of the stable id.
 */
function fromAwsArn(arn: string, sessionName: string | undefined, username: string): BuiltinIdentity | undefined {
  const assumed = /^arn:aws[\w-]*:sts::(\d{12}):assumed-role\/([^/]+)\/(.+)$/.exec(arn);
  if (assumed) {
    const [, account, role, session] = assumed as unknown as [string, string, string, string];
    const who = sessionName ?? session;
    return pending(
      actor({ id: `aws:${account}:role/${role}/${who}`, kind: 'human', displayName: who, email: EMAIL.test(who) ? who : null, account }),
      username,
      who,
      arn,
      `aws:${account}:role/${role}`,
    );
  }
  const iam = /^arn:aws[\w-]*:iam::(\d{12}):(user|role)\/(?:.*\/)?([^/]+)$/.exec(arn);
  if (iam) {
    const [, account, type, name] = iam as unknown as [string, string, string, string];
    return pending(actor({ id: `aws:${account}:${type}/${name}`, kind: 'human', displayName: name, account }), username, arn, name);
  }
  return undefined;
}

/**
 * The built-in resolver: what the username itself says, for native Kubernetes identities and each
 * cloud's conventions (EKS IAM ARNs and session names, GKE Google accounts and IAM service
 * accounts, AKS Entra object IDs, TKE numeric account UINs).
 */
export function parseBuiltinIdentity(user: UserRef): BuiltinIdentity {
  const username = user.username ?? '';
  if (username === '' || username === 'system:anonymous') {
    return done(actor({ id: 'anonymous', kind: 'anonymous', displayName: 'anonymous' }), username);
  }
  const sa = /^system:serviceaccount:([^:]+):(.+)$/.exec(username);
  if (sa) {
    const [, ns, name] = sa as unknown as [string, string, string];
    // kube-controller-manager runs each controller as its own kube-system SA (--use-service-account-credentials).
    const kind = ns === 'kube-system' && name.endsWith('-controller') ? 'controller' : 'serviceaccount';
    return done(actor({ id: `sa:${ns}:${name}`, kind, displayName: `${ns}/${name}` }), username);
  }
  const node = /^system:node:(.+)$/.exec(username);
  if (node) return done(actor({ id: `node:${node[1]}`, kind: 'node', displayName: node[1] ?? username }), username);
  if (CONTROL_PLANE.has(username)) return done(actor({ id: username, kind: 'controller', displayName: username.slice('system:'.length) }), username);
  if (username.startsWith('system:')) return done(actor({ id: username, kind: 'system', displayName: username }), username);
  if (AKS_SYSTEM_USERS.has(username)) return done(actor({ id: `aks:${username}`, kind: 'system', displayName: username }), username);
  if (username.startsWith('eks:')) return done(actor({ id: username, kind: 'controller', displayName: username }), username);

  const arn = first(user.extra, 'arn') ?? first(user.extra, 'canonicalArn') ?? (username.startsWith('arn:') ? username : undefined);
  if (arn !== undefined) {
    const fromArn = fromAwsArn(arn, first(user.extra, 'sessionName'), username);
    if (fromArn) return fromArn;
  }
  const gsa = /^([^@]+)@([^.]+)\.iam\.gserviceaccount\.com$/.exec(username);
  if (gsa) {
    return pending(actor({ id: `gcp-sa:${username}`, kind: 'serviceaccount', displayName: gsa[1] ?? username, email: username, account: gsa[2] ?? null }), username);
  }
  if (GUID.test(username)) {
    // An Entra object ID can be a user, a group member or a service principal: the directory decides.
    return pending(actor({ id: `entra:${username.toLowerCase()}`, kind: 'unknown', displayName: username }), username, first(user.extra, 'oid'));
  }
  const uin = /^(\d{6,})(?:-\d+)?$/.exec(username);
  if (uin) {
    return pending(actor({ id: `tke:${uin[1]}`, kind: 'human', displayName: username, account: uin[1] ?? null }), username);
  }
  if (EMAIL.test(username)) {
    return pending(actor({ id: `user:${username.toLowerCase()}`, kind: 'human', displayName: username, email: username.toLowerCase() }), username);
  }
  return pending(actor({ id: `user:${username}`, kind: 'human', displayName: username }), username);
}
