import CircuitBreaker from 'opossum';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import { ACTOR_KINDS } from '@kaudit/audit-schema';
import { KauditError } from '@kaudit/errors';
import type { Telemetry } from '@kaudit/logging';
import type { DirectoryEntry } from './actor.js';

export interface HttpDirectoryOptions {
  /** e.g. `https://people.example.com/api/identities/{id}`; `{id}` and `{username}` are URL-encoded in. */
  urlTemplate: string;
  /** Per request; past it the lookup counts as failed and the event goes on unresolved. */
  timeoutMs: number;
  /** How long an answer is reused. */
  ttlMs: number;
  /** How long "not in the directory" (404) is reused, so unknown ids do not hit the directory per event. */
  negativeTtlMs: number;
  maxEntries: number;
  /** Failure percentage (over at least `volumeThreshold` calls) that opens the breaker. */
  errorThresholdPercentage: number;
  volumeThreshold: number;
  /** How long the breaker stays open before one trial request (half-open). */
  resetTimeoutMs: number;
  headers?: Readonly<Record<string, string>>;
  telemetry: Telemetry;
}

const nullableText = z
  .string()
  .nullish()
  .transform((v) => (v === null || v === '' ? undefined : v));

/** What the directory must answer (extra fields are ignored). */
export const httpDirectoryResponseSchema = z.object({
  displayName: nullableText,
  email: nullableText,
  team: nullableText,
  kind: z.enum(ACTOR_KINDS).nullish().transform((v) => v ?? undefined),
});

export type HttpLookup = { status: 'found'; entry: DirectoryEntry } | { status: 'not-found' } | { status: 'unavailable'; reason: string };

/** lru-cache values must be objects; `entry: null` is a cached "not found". */
interface Cached {
  entry: DirectoryEntry | null;
}

function render(template: string, vars: { id: string; username: string }): string {
  return template.replace(/\{(id|username)\}/g, (_m, name: 'id' | 'username') => encodeURIComponent(vars[name]));
}

/**
 * A people directory over HTTP, behind an LRU cache (TTL, negative caching, one in-flight request
 * per key) and a circuit breaker. It never makes enrichment wait longer than one timeout: when it is
 * slow or down the breaker opens and lookups answer `unavailable` at once until a trial succeeds.
 */
export class HttpDirectory {
  readonly name = 'http-directory';
  readonly #options: HttpDirectoryOptions;
  readonly #breaker: CircuitBreaker<[string], Cached>;
  readonly #cache: LRUCache<string, Cached>;

  constructor(options: HttpDirectoryOptions) {
    this.#options = options;
    this.#breaker = new CircuitBreaker((url: string) => this.#request(url), {
      timeout: options.timeoutMs,
      errorThresholdPercentage: options.errorThresholdPercentage,
      volumeThreshold: options.volumeThreshold,
      resetTimeout: options.resetTimeoutMs,
    });
    const telemetry = options.telemetry;
    this.#breaker.on('open', () => telemetry.emit({ event: 'http_directory_breaker_open', level: 'warn' }));
    this.#breaker.on('halfOpen', () => telemetry.emit({ event: 'http_directory_breaker_half_open' }));
    this.#breaker.on('close', () => telemetry.emit({ event: 'http_directory_breaker_closed' }));
    this.#cache = new LRUCache<string, Cached>({
      max: options.maxEntries,
      ttl: options.ttlMs,
      fetchMethod: async (url, _stale, { options: fetchOptions }) => {
        const cached = await this.#breaker.fire(url);
        if (cached.entry === null) fetchOptions.ttl = options.negativeTtlMs;
        return cached;
      },
    });
  }

  /** True while the breaker is open (the directory is being left alone). */
  get isOpen(): boolean {
    return this.#breaker.opened;
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {
    this.#breaker.shutdown();
    this.#cache.clear();
  }

  async lookup(vars: { id: string; username: string }): Promise<HttpLookup> {
    const url = render(this.#options.urlTemplate, vars);
    try {
      const cached = await this.#cache.fetch(url);
      if (cached === undefined || cached.entry === null) return { status: 'not-found' };
      return { status: 'found', entry: cached.entry };
    } catch (err) {
      return { status: 'unavailable', reason: err instanceof Error ? err.message : String(err) };
    }
  }

  async #request(url: string): Promise<Cached> {
    const response = await fetch(url, {
      headers: { accept: 'application/json', ...this.#options.headers },
      // The breaker's timeout rejects the caller; this also frees the socket.
      signal: AbortSignal.timeout(this.#options.timeoutMs),
    });
    if (response.status === 404) {
      await response.body?.cancel();
      return { entry: null };
    }
    if (!response.ok) {
      await response.body?.cancel();
      // INPUT_INVALID: an error answer is bad data from outside; it only feeds the breaker's failure count.
      throw new KauditError('INPUT_INVALID', `directory answered HTTP ${response.status}`, { retryable: true });
    }
    const parsed = httpDirectoryResponseSchema.safeParse(await response.json());
    if (!parsed.success) {
      this.#options.telemetry.emit({ event: 'http_directory_invalid_response', level: 'warn', fields: { issues: parsed.error.issues.length } });
      throw new KauditError('INPUT_INVALID', 'directory answer is not a valid identity');
    }
    return { entry: parsed.data };
  }
}
