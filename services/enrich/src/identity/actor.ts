import type { AuditRecord } from '@kaudit/audit-schema';

export type Actor = AuditRecord['actor'];

/** Which resolver answered; `unresolved` when only the built-in parse of the username is known. */
export type ResolvedBy = 'builtin' | 'directory-file' | 'http-directory' | 'unresolved';

/** The user fields identity resolution reads (user.extra values stay lists, as in the event). */
export interface UserRef {
  username: string | undefined;
  groups: readonly string[];
  extra: Readonly<Record<string, readonly string[]>>;
}

/** What a directory knows about an identity; absent fields keep what was already known. */
export interface DirectoryEntry {
  displayName?: string | undefined;
  email?: string | undefined;
  team?: string | undefined;
  kind?: Actor['kind'] | undefined;
}

/** Applies a directory answer to an actor. */
export function applyEntry(actor: Actor, entry: DirectoryEntry, resolvedBy: ResolvedBy): Actor {
  return {
    ...actor,
    displayName: entry.displayName ?? actor.displayName,
    email: entry.email ?? actor.email,
    team: entry.team ?? actor.team,
    kind: entry.kind ?? actor.kind,
    resolvedBy,
  };
}
