/** Per-rule groups as JSON: rule id → group key → value (`null` in a change set: the group is gone). */
export type GroupsObject<T> = Record<string, Record<string, T>>;
export type GroupChanges<T> = Record<string, Record<string, T | null>>;

/**
 * One kind of per-rule group state (threshold counts, sequence progress or open dedup windows) that
 * remembers which groups changed since the last `takeChanges()`, so a checkpoint writes what a
 * batch touched rather than every open group (issue 12 §3: 100k open groups must not mean a
 * multi-megabyte write per batch). Every mutation goes through it; in-place edits call `touch`.
 */
export class GroupState<T> {
  readonly #byRule = new Map<string, Map<string, T>>();
  readonly #dirty = new Map<string, Set<string>>();

  get(ruleId: string, key: string): T | undefined {
    return this.#byRule.get(ruleId)?.get(key);
  }

  /**
   * Inserts (as the newest) and bounds the rule's groups: past `max` the oldest-inserted group is
   * removed and returned.
   */
  set(ruleId: string, key: string, value: T, max: number): [string, T] | undefined {
    const groups = this.#groups(ruleId);
    groups.delete(key);
    groups.set(key, value);
    this.touch(ruleId, key);
    if (groups.size <= max) return undefined;
    const oldest = groups.entries().next();
    if (oldest.done) return undefined;
    this.delete(ruleId, oldest.value[0]);
    return oldest.value;
  }

  delete(ruleId: string, key: string): void {
    if (this.#byRule.get(ruleId)?.delete(key)) this.touch(ruleId, key);
  }

  /** Marks a group changed in place (or removed). */
  touch(ruleId: string, key: string): void {
    let keys = this.#dirty.get(ruleId);
    if (!keys) {
      keys = new Set();
      this.#dirty.set(ruleId, keys);
    }
    keys.add(key);
  }

  /** The rule's groups in insertion order; deleting through `delete` while iterating is safe. */
  entries(ruleId: string): Iterable<[string, T]> {
    return this.#byRule.get(ruleId) ?? [];
  }

  size(): number {
    let n = 0;
    for (const groups of this.#byRule.values()) n += groups.size;
    return n;
  }

  toObject(): GroupsObject<T> {
    return Object.fromEntries([...this.#byRule].filter(([, g]) => g.size > 0).map(([rule, g]) => [rule, Object.fromEntries(g)]));
  }

  /** The whole state in pieces of at most `maxGroups` groups (a checkpoint base written in chunks). */
  chunks(maxGroups: number): GroupsObject<T>[] {
    const out: GroupsObject<T>[] = [];
    let chunk: GroupsObject<T> = {};
    let n = 0;
    for (const [rule, groups] of this.#byRule) {
      for (const [key, value] of groups) {
        if (n === maxGroups) {
          out.push(chunk);
          chunk = {};
          n = 0;
        }
        (chunk[rule] ??= {})[key] = value;
        n++;
      }
    }
    if (n > 0) out.push(chunk);
    return out;
  }

  /** What changed since the last call: the current value of each touched group, `null` if it is gone. */
  takeChanges(): GroupChanges<T> {
    const out: GroupChanges<T> = {};
    for (const [rule, keys] of this.#dirty) {
      const groups = this.#byRule.get(rule);
      const changed: Record<string, T | null> = {};
      for (const key of keys) changed[key] = groups?.get(key) ?? null;
      out[rule] = changed;
    }
    this.#dirty.clear();
    return out;
  }

  clear(): void {
    this.#byRule.clear();
    this.#dirty.clear();
  }

  /** Applies a snapshot piece or a change set; groups of rules that no longer exist are dropped. */
  apply(changes: GroupChanges<T>, known: ReadonlySet<string>): void {
    for (const [rule, groups] of Object.entries(changes)) {
      if (!known.has(rule)) continue;
      const target = this.#groups(rule);
      for (const [key, value] of Object.entries(groups)) {
        // A known group keeps its place in the eviction order, a new one is the newest.
        if (value === null) target.delete(key);
        else target.set(key, value);
      }
    }
  }

  #groups(ruleId: string): Map<string, T> {
    let groups = this.#byRule.get(ruleId);
    if (!groups) {
      groups = new Map();
      this.#byRule.set(ruleId, groups);
    }
    return groups;
  }
}

/** Merges a later change set over an earlier one (the later value of a group wins). */
export function mergeGroupChanges<T>(earlier: GroupChanges<T>, later: GroupChanges<T>): GroupChanges<T> {
  const out: GroupChanges<T> = { ...earlier };
  for (const [rule, groups] of Object.entries(later)) out[rule] = { ...out[rule], ...groups };
  return out;
}

export function countGroupChanges<T>(changes: GroupChanges<T>): number {
  let n = 0;
  for (const groups of Object.values(changes)) n += Object.keys(groups).length;
  return n;
}
