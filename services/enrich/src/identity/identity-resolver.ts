import { applyEntry, type Actor, type UserRef } from './actor.js';
import { BUILTIN_EXTRA_KEYS, parseBuiltinIdentity } from './builtin-identity.js';
import type { DirectoryIndex } from './directory.js';
import type { HttpLookup } from './http-directory.js';

/** The part of HttpDirectory the resolver needs (a test can pass any implementation). */
export interface RemoteDirectory {
  lookup(vars: { id: string; username: string }): Promise<HttpLookup>;
}

export interface IdentityResolverDeps {
  /** The directory file's current contents (re-read per call, so reloads apply at once). */
  directory: () => DirectoryIndex;
  remote?: RemoteDirectory | undefined;
  /** Counts how each identity was resolved (and why remote lookups failed). */
  onResolved?: (resolvedBy: Actor['resolvedBy'], remote: HttpLookup['status'] | 'skipped') => void;
}

/**
 * What decides the built-in identity and the file's answer: the username and the first value of each user.extra key
 * the parse reads (BUILTIN_EXTRA_KEYS), each length-prefixed so that no two different inputs share a key (an absent
 * value and an empty one differ too). Undefined without a username.
 */
function cacheKey(user: UserRef): string | undefined {
  if (user.username === undefined) return undefined;
  let key = `${user.username.length}:${user.username}`;
  for (const k of BUILTIN_EXTRA_KEYS) {
    const value = user.extra[k]?.[0];
    key += value === undefined ? '|' : `,${value.length}:${value}`;
  }
  return key;
}

/** Whether any of the user.extra values cacheKey reads is there (most users have none: their key is the username alone). */
function hasBuiltinExtras(user: UserRef): boolean {
  for (const k of BUILTIN_EXTRA_KEYS) if (user.extra[k]?.[0] !== undefined) return true;
  return false;
}

/** Identities whose actor is kept; past it the cache starts over (a bound on memory whatever the traffic). */
const CACHE_ENTRIES = 10_000;

/**
 * Ordered resolvers: built-in parse of the username → directory file → HTTP directory. The first
 * that knows the identity wins; an identity nobody knows keeps the built-in parse, marked
 * `unresolved`. The namespace → team map is the directory file's `namespaces`.
 */
export class IdentityResolver {
  readonly #deps: IdentityResolverDeps;
  /**
   * Actors resolved without the remote directory, by what decides them (cacheKey): the parse's regular expressions and the directory
   * lookup were a tenth of enrich's own time per record, for the same few users again and again (issue 16).
   * Valid for one directory index only: a reload (a new index) empties it. Actors are never mutated downstream.
   */
  readonly #cache = new Map<string, Actor>();
  /**
   * The same for users without any extra value cacheKey reads, by username alone: their cacheKey (the username and
   * four '|') was built, flattened and hashed per event (issue 16). Kept apart, so the two forms never meet.
   */
  readonly #byUsername = new Map<string, Actor>();
  #cachedFor: DirectoryIndex | undefined;

  constructor(deps: IdentityResolverDeps) {
    this.#deps = deps;
  }

  /**
   * The actor, synchronously when no remote directory is asked (the built-in parse or the file knew it, or
   * there is no remote): a Promise per record cost the hot path, and let a whole fetched batch of parsed
   * events stay alive at once across the await (issue 16: GC). A Promise only when the remote is asked.
   */
  resolve(user: UserRef): Actor | Promise<Actor> {
    const directory = this.#deps.directory();
    const plain = user.username !== undefined && !hasBuiltinExtras(user);
    const cache = plain ? this.#byUsername : this.#cache;
    const key = plain ? user.username : cacheKey(user);
    if (key !== undefined) {
      if (this.#cachedFor !== directory) {
        this.#cache.clear();
        this.#byUsername.clear();
        this.#cachedFor = directory;
      }
      const cached = cache.get(key);
      if (cached !== undefined) return this.#done(cached, 'skipped');
    }
    const builtin = parseBuiltinIdentity(user);
    const fromFile = directory.lookup(builtin.keys);
    const remote = this.#deps.remote;
    if (!fromFile && builtin.remote && remote) return this.#remote(remote, builtin.actor, user.username ?? '');
    const actor = fromFile ? applyEntry(builtin.actor, fromFile, 'directory-file') : builtin.actor;
    if (key !== undefined) {
      if (this.#cache.size + this.#byUsername.size >= CACHE_ENTRIES) {
        this.#cache.clear();
        this.#byUsername.clear();
      }
      cache.set(key, actor);
    }
    return this.#done(actor, 'skipped');
  }

  async #remote(remote: RemoteDirectory, actor: Actor, username: string): Promise<Actor> {
    const answer = await remote.lookup({ id: actor.id, username });
    if (answer.status === 'found') return this.#done(applyEntry(actor, answer.entry, 'http-directory'), answer.status);
    return this.#done(actor, answer.status);
  }

  ownerTeam(namespace: string | null): string | null {
    return this.#deps.directory().teamForNamespace(namespace);
  }

  #done(actor: Actor, remote: HttpLookup['status'] | 'skipped'): Actor {
    this.#deps.onResolved?.(actor.resolvedBy, remote);
    return actor;
  }
}
