/**
 * Bytes of request bodies held in memory at once. Requests that would exceed it are turned away
 * (429 + Retry-After) instead of growing memory without bound while Kafka is slow.
 */
export class InflightBudget {
  readonly #limit: number;
  #used = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  tryAcquire(bytes: number): boolean {
    // One request larger than the whole budget is still let in when nothing else is in flight,
    // so a budget smaller than the body limit cannot block such a body forever.
    if (this.#used > 0 && this.#used + bytes > this.#limit) return false;
    this.#used += bytes;
    return true;
  }

  release(bytes: number): void {
    this.#used = Math.max(0, this.#used - bytes);
  }

  get used(): number {
    return this.#used;
  }
}
