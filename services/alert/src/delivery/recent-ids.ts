import { z } from 'zod';

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

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

  /** Reads a checkpoint; `undefined` when it is unreadable (the caller reports it and starts empty). */
  static parse(max: number, bytes: Buffer): RecentIds | undefined {
    const parsed = z.array(z.string()).safeParse(safeJson(bytes.toString('utf8')));
    return parsed.success ? new RecentIds(max, parsed.data) : undefined;
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
