import { applyEntry, type Actor, type UserRef } from './actor.js';
import { parseBuiltinIdentity } from './builtin-identity.js';
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
 * Ordered resolvers: built-in parse of the username → directory file → HTTP directory. The first
 * that knows the identity wins; an identity nobody knows keeps the built-in parse, marked
 * `unresolved`. The namespace → team map is the directory file's `namespaces`.
 */
export class IdentityResolver {
  readonly #deps: IdentityResolverDeps;

  constructor(deps: IdentityResolverDeps) {
    this.#deps = deps;
  }

  /**
   * The actor, synchronously when no remote directory is asked (the built-in parse or the file knew it, or
   * there is no remote): a Promise per record cost the hot path, and let a whole fetched batch of parsed
   * events stay alive at once across the await (issue 16: GC). A Promise only when the remote is asked.
   */
  resolve(user: UserRef): Actor | Promise<Actor> {
    const builtin = parseBuiltinIdentity(user);
    const fromFile = this.#deps.directory().lookup(builtin.keys);
    if (fromFile) return this.#done(applyEntry(builtin.actor, fromFile, 'directory-file'), 'skipped');
    const remote = this.#deps.remote;
    if (!builtin.remote || !remote) return this.#done(builtin.actor, 'skipped');
    return this.#remote(remote, builtin.actor, user.username ?? '');
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
