/**
 * Token bucket per destination: `perSecond` sustained, `burst` at once. Small enough to own
 * (bottleneck, the usual library, is unmaintained since 2019) and clock-injected for tests.
 */
export class RateLimiter {
  readonly #perMs: number;
  readonly #burst: number;
  readonly #nowMs: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  #tokens: number;
  #updatedMs: number;
  /** Callers queue behind each other so tokens are handed out in arrival order. */
  #tail: Promise<void> = Promise.resolve();

  constructor(options: { perSecond: number; burst: number; nowMs: () => number; sleep: (ms: number) => Promise<void> }) {
    this.#perMs = options.perSecond / 1000;
    this.#burst = options.burst;
    this.#nowMs = options.nowMs;
    this.#sleep = options.sleep;
    this.#tokens = options.burst;
    this.#updatedMs = options.nowMs();
  }

  /** Resolves when the caller may send one request. */
  acquire(): Promise<void> {
    const turn = this.#tail.then(() => this.#take());
    this.#tail = turn;
    return turn;
  }

  #refill(): void {
    const now = this.#nowMs();
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#updatedMs) * this.#perMs);
    this.#updatedMs = now;
  }

  async #take(): Promise<void> {
    for (;;) {
      this.#refill();
      if (this.#tokens >= 1) {
        this.#tokens -= 1;
        return;
      }
      await this.#sleep(Math.ceil((1 - this.#tokens) / this.#perMs));
    }
  }
}
