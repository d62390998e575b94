/**
 * When a block of gathered fetches is cut and flushed: the sink's ClickHouse insert, enrich's produce (issue 16). Shared by
 * both, so it lives beside the consumer it serves.
 */
export interface GatherLimits {
  /** Cut once the block holds this many rows. */
  maxRows: number;
  /** Cut once the block holds this many bytes of record values. */
  maxBytes: number;
  /**
   * Cut this long after the block's first fetch joined. The batches of one fetch reach the handlers within
   * milliseconds of each other, and this only gathers them (the sink: see its fetchWaitMs; a fetch from a single
   * broker waits for no other: with one broker and fewer fetches than maxHeld, every such block pays it).
   */
  lingerMs: number;
  /**
   * A block holding at least this many rows does not linger: it is cut as soon as the burst of fetches that brought
   * it has been handed over (kafkajs hands every batch of one fetch response to its handlers in one turn of the
   * event loop). Lingering then could only add another broker's response, and a block this size is already a
   * ClickHouse-friendly insert; catching up a backlog, the linger was a tenth of the sink's time (issue 16). 0: never
   * linger, every block is cut once its burst has been handed over (enrich).
   */
  lingerBelowRows: number;
  /**
   * Fetches the consumer can have in hand at once (its partitionsConsumedConcurrently). Once that many are
   * held no other fetch can join — each handler holds a consumer slot until its block is in — so waiting longer
   * would only add latency: cut at once.
   */
  maxHeld: number;
}

/** One fetch waiting in a block: `key` names its topic-partition. */
export interface Gathered<T> {
  item: T;
  key: string;
  rows: number;
  bytes: number;
}

/**
 * Flushes a block (inserts, produces). Resolves with the items that were NOT stored and why (e.g. a partition revoked while its
 * fetch waited); every other item is durable. Rejecting means nothing of the block may be assumed stored.
 */
export type FlushBlock<T> = (items: readonly T[]) => Promise<ReadonlyMap<T, Error>>;

interface Waiter<T> extends Gathered<T> {
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * Gathers the fetches the consumer hands over at about the same time (the partitions of one Kafka fetch) into one
 * block, so ClickHouse gets one insert (enrich: one run of produce requests) per fetch response instead of one per partition. Nothing is buffered
 * beyond the fetches in hand: each fetch's handler waits in join() until its block is inserted, so Kafka keeps
 * the backlog (and the consumer commits a fetch only after join() resolved). Memory stays bounded by the
 * consumer's in-hand fetches, whatever ClickHouse does.
 * A block holds at most one fetch per topic-partition: a second one of the same partition cuts the block first,
 * so each block's records of a partition are one contiguous run of offsets.
 */
export class FetchGatherer<T> {
  readonly #limits: GatherLimits;
  readonly #flush: FlushBlock<T>;
  #pending: Waiter<T>[] = [];
  #rows = 0;
  #bytes = 0;
  #timer: NodeJS.Timeout | undefined;
  /** Set once the pending block is big enough not to linger, or its linger passed: cuts it once its burst has joined. */
  #burstEnd: NodeJS.Immediate | undefined;
  /** Fetches handed to join() that are still in its `before`. */
  #arriving = 0;
  /** The pending block's linger has passed (it is cut once no fetch is arriving). */
  #lingered = false;
  /** Fetches handed to a flush that has not settled yet: they still hold their consumer slot. */
  #flushing = 0;
  readonly #inflight = new Set<Promise<void>>();
  /** Shutting down: no fetch waits for company any more. */
  #draining = false;

  constructor(limits: GatherLimits, flush: FlushBlock<T>) {
    this.#limits = limits;
    this.#flush = flush;
  }

  /**
   * Resolves once the block holding `item` is stored (flushed); rejects with the reason it is not. `before` (the sink's wait for
   * a previous owner's inserts) runs first: while it runs, this fetch still counts as part of the burst that brought
   * it, so a block is not cut at the burst's end without it (it would then be a second insert of the same fetch).
   */
  async join(gathered: Gathered<T>, before?: () => Promise<void>): Promise<void> {
    if (before !== undefined) {
      this.#arriving++;
      try {
        await before();
      } finally {
        this.#arriving--;
        this.#armBurstEnd();
      }
    }
    if (this.#pending.some((w) => w.key === gathered.key)) this.#cut();
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ ...gathered, resolve, reject });
      this.#rows += gathered.rows;
      this.#bytes += gathered.bytes;
      const l = this.#limits;
      if (this.#draining || this.#rows >= l.maxRows || this.#bytes >= l.maxBytes || this.#pending.length + this.#flushing >= l.maxHeld || l.lingerMs <= 0) {
        this.#cut();
      } else {
        this.#timer ??= setTimeout(() => {
          this.#timer = undefined;
          this.#lingered = true;
          this.#armBurstEnd();
        }, l.lingerMs);
        this.#armBurstEnd();
      }
    });
  }

  /**
   * Once the pending block is big enough not to linger, or its linger passed: cut it after this turn of the event
   * loop, unless a fetch is still arriving — then when the last one has (a fetch of the same burst that waited for a
   * previous owner's inserts longer than the linger would otherwise be a second insert running beside this one).
   */
  #armBurstEnd(): void {
    if (this.#burstEnd !== undefined || this.#pending.length === 0 || (this.#rows < this.#limits.lingerBelowRows && !this.#lingered)) return;
    this.#burstEnd = setImmediate(() => {
      this.#burstEnd = undefined;
      if (this.#arriving === 0) this.#cut();
    });
  }

  /** Cuts what is pending now and resolves once every block handed over so far has settled (shutdown flush). */
  async drain(): Promise<void> {
    this.#draining = true;
    this.#cut();
    await Promise.all([...this.#inflight]);
  }

  #cut(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    clearImmediate(this.#burstEnd);
    this.#burstEnd = undefined;
    this.#lingered = false;
    const block = this.#pending;
    if (block.length === 0) return;
    this.#pending = [];
    this.#rows = 0;
    this.#bytes = 0;
    this.#flushing += block.length;
    const settled = this.#run(block).finally(() => {
      this.#flushing -= block.length;
      this.#inflight.delete(settled);
    });
    this.#inflight.add(settled);
  }

  async #run(block: readonly Waiter<T>[]): Promise<void> {
    let failed: ReadonlyMap<T, Error>;
    try {
      failed = await this.#flush(block.map((w) => w.item));
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      for (const w of block) w.reject(e);
      return;
    }
    for (const w of block) {
      const e = failed.get(w.item);
      if (e === undefined) w.resolve();
      else w.reject(e);
    }
  }
}
