/**
 * Alert ids a destination already handled, newest last, bounded. A duplicate alert (re-produced
 * after an evaluator crash) lands in the same partition shortly after the original, so a bounded
 * recent window is enough to refuse it.
 */
export class RecentIds {
  readonly #ids: Set<string>;
  readonly #max: number;

  constructor(max: number, ids: Iterable<string> = []) {
    this.#max = max;
    this.#ids = new Set(ids);
    this.#trim();
  }

  static parse(max: number, bytes: Buffer | undefined): RecentIds {
    if (!bytes) return new RecentIds(max);
    const parsed: unknown = JSON.parse(bytes.toString('utf8'));
    return new RecentIds(max, Array.isArray(parsed) ? parsed.filter((v): v is string => typeof v === 'string') : []);
  }

  has(id: string): boolean {
    return this.#ids.has(id);
  }

  add(id: string): void {
    this.#ids.add(id);
    this.#trim();
  }

  toBuffer(): Buffer {
    return Buffer.from(JSON.stringify([...this.#ids]));
  }

  #trim(): void {
    for (const id of this.#ids) {
      if (this.#ids.size <= this.#max) break;
      this.#ids.delete(id);
    }
  }
}
