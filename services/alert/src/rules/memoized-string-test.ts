/** Distinct values one test remembers before it starts afresh: bounded memory whatever the input. */
const MAX_ENTRIES = 2048;
/** Longer values are tested every time (request URIs with query strings rarely repeat, and would hold memory). */
const MAX_KEY_LENGTH = 256;

/**
 * A pure string test (a CIDR, glob or regex condition) that remembers its answer per value. The values these
 * conditions read — source addresses, user names, images, paths — repeat from record to record, and the tests
 * are costly: node:net's BlockList builds a SocketAddress per check, which made the one `cidr` rule of the
 * default pack half of all rule evaluation in the alert service at 5,000 events/s (issue 15 §1). The memory
 * is bounded: past MAX_ENTRIES values the memo is emptied and fills again with what recurs.
 */
export class MemoizedStringTest {
  readonly #test: (value: string) => boolean;
  readonly #known = new Map<string, boolean>();
  readonly #maxEntries: number;

  constructor(test: (value: string) => boolean, maxEntries = MAX_ENTRIES) {
    this.#test = test;
    this.#maxEntries = maxEntries;
  }

  /** Values remembered now (at most maxEntries). */
  get size(): number {
    return this.#known.size;
  }

  test(value: string): boolean {
    if (value.length > MAX_KEY_LENGTH) return this.#test(value);
    const known = this.#known.get(value);
    if (known !== undefined) return known;
    const answer = this.#test(value);
    if (this.#known.size >= this.#maxEntries) this.#known.clear();
    this.#known.set(value, answer);
    return answer;
  }
}
