/**
 * Bytes of request bodies held in memory at once, in total and per cluster. Requests that would
 * exceed either are turned away (429 + Retry-After) instead of growing memory without bound while
 * Kafka is slow. The per-cluster share keeps one cluster's slow or stuck uploads from taking the
 * whole budget: every other cluster always has at least `limit - perClusterLimit` left.
 */
export class InflightBudget {
  readonly #limit: number;
  readonly #perClusterLimit: number;
  readonly #byCluster = new Map<string, number>();
  #used = 0;

  constructor(limit: number, perClusterLimit: number = limit) {
    this.#limit = limit;
    this.#perClusterLimit = Math.min(perClusterLimit, limit);
  }

  tryAcquire(cluster: string, bytes: number): boolean {
    const mine = this.#byCluster.get(cluster) ?? 0;
    // One request larger than the budget (or the share) is still let in when nothing else is in
    // flight (for that cluster), so a budget smaller than the body limit cannot block a body forever.
    if (this.#used > 0 && this.#used + bytes > this.#limit) return false;
    if (mine > 0 && mine + bytes > this.#perClusterLimit) return false;
    this.#used += bytes;
    this.#byCluster.set(cluster, mine + bytes);
    return true;
  }

  release(cluster: string, bytes: number): void {
    this.#used = Math.max(0, this.#used - bytes);
    const left = (this.#byCluster.get(cluster) ?? 0) - bytes;
    // Entries go when they reach zero: the map holds only clusters with bytes in flight.
    if (left > 0) this.#byCluster.set(cluster, left);
    else this.#byCluster.delete(cluster);
  }

  get used(): number {
    return this.#used;
  }

  usedBy(cluster: string): number {
    return this.#byCluster.get(cluster) ?? 0;
  }
}
