import { parse as parseCsv } from 'csv-parse/sync';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ACTOR_KINDS, describeIssues } from '@kaudit/audit-schema';
import { KauditError } from '@kaudit/errors';
import type { DirectoryEntry } from './actor.js';

const optionalText = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v === '' ? undefined : v));

const identitySchema = z
  .object({
    /** Exact match on the actor id (`aws:123…:role/Admin/alice`) or the raw username. */
    id: optionalText,
    /** Glob (`*` = anything) on the same keys, e.g. `arn:aws:sts::123456789012:assumed-role/Admin/*`. */
    pattern: optionalText,
    displayName: optionalText,
    email: optionalText,
    team: optionalText,
    // CSV leaves unused columns as '': treat them as absent.
    kind: z.preprocess((v) => (v === '' ? undefined : v), z.enum(ACTOR_KINDS).optional()),
  })
  .refine((v) => (v.id === undefined) !== (v.pattern === undefined), { message: 'each identity needs exactly one of `id` or `pattern`' });

export const directorySchema = z.object({
  identities: z.array(identitySchema).default([]),
  /** Namespace (or glob) → owning team, for routing alerts about what was touched. */
  namespaces: z.record(z.string(), z.string()).default({}),
});

export type DirectoryDocument = z.output<typeof directorySchema>;

function globToRegExp(glob: string): RegExp {
  const escaped = glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`, 'i');
}

function entryOf(i: DirectoryDocument['identities'][number]): DirectoryEntry {
  return { displayName: i.displayName, email: i.email, team: i.team, kind: i.kind };
}

/**
 * The directory file in memory: exact ids in a map (the common case, O(1)), patterns tried in file
 * order after that, first match wins.
 */
export class DirectoryIndex {
  readonly #exact = new Map<string, DirectoryEntry>();
  readonly #patterns: { regex: RegExp; entry: DirectoryEntry }[] = [];
  readonly #namespaces = new Map<string, string>();
  readonly #namespacePatterns: { regex: RegExp; team: string }[] = [];
  readonly size: number;
  /** What it was built from: an enrich thread builds its own index of it (threads/enrich-threads.ts). */
  readonly document: DirectoryDocument;

  constructor(doc: DirectoryDocument) {
    this.document = doc;
    for (const identity of doc.identities) {
      if (identity.id !== undefined) {
        if (!this.#exact.has(identity.id.toLowerCase())) this.#exact.set(identity.id.toLowerCase(), entryOf(identity));
      } else if (identity.pattern !== undefined) {
        this.#patterns.push({ regex: globToRegExp(identity.pattern), entry: entryOf(identity) });
      }
    }
    for (const [ns, team] of Object.entries(doc.namespaces)) {
      if (ns.includes('*')) this.#namespacePatterns.push({ regex: globToRegExp(ns), team });
      else this.#namespaces.set(ns, team);
    }
    this.size = doc.identities.length;
  }

  static empty(): DirectoryIndex {
    return new DirectoryIndex({ identities: [], namespaces: {} });
  }

  /** The entry for the first key that matches exactly, else the first pattern matching any key. */
  lookup(keys: readonly string[]): DirectoryEntry | undefined {
    for (const key of keys) {
      const hit = this.#exact.get(key.toLowerCase());
      if (hit) return hit;
    }
    for (const { regex, entry } of this.#patterns) {
      if (keys.some((k) => regex.test(k))) return entry;
    }
    return undefined;
  }

  teamForNamespace(namespace: string | null): string | null {
    if (namespace === null || namespace === '') return null;
    const exact = this.#namespaces.get(namespace);
    if (exact !== undefined) return exact;
    return this.#namespacePatterns.find((p) => p.regex.test(namespace))?.team ?? null;
  }
}

/**
 * Parses a directory file: YAML (`identities:` + `namespaces:`) or CSV with a header row
 * (`id,pattern,displayName,email,team[,kind]`; CSV has no namespace map). Throws CONFIG_INVALID
 * naming every problem.
 */
export function parseDirectory(text: string, format: 'yaml' | 'csv', source: string): DirectoryIndex {
  let raw: unknown;
  try {
    raw =
      format === 'csv'
        ? { identities: parseCsv(text, { columns: true, skip_empty_lines: true, trim: true, comment: '#' }) as unknown }
        : (parseYaml(text) ?? {});
  } catch (cause) {
    throw new KauditError('CONFIG_INVALID', `directory file ${source} is not valid ${format.toUpperCase()}: ${(cause as Error).message}`, { cause });
  }
  const parsed = directorySchema.safeParse(raw);
  if (!parsed.success) throw new KauditError('CONFIG_INVALID', `directory file ${source} is invalid: ${describeIssues(parsed.error)}`);
  return new DirectoryIndex(parsed.data);
}

export function directoryFormat(path: string): 'yaml' | 'csv' {
  return /\.csv$/i.test(path) ? 'csv' : 'yaml';
}
