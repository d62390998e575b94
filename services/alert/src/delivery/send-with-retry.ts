import type { AlertRecord } from '@kaudit/audit-schema';
import { isKauditError, KauditError } from '@kaudit/errors';
import type { Notifier } from '../notifiers/notifier.js';
import type { RateLimiter } from './rate-limiter.js';

export interface RetryPolicy {
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export type SendOutcome = { ok: true; attempts: number } | { ok: false; attempts: number; error: KauditError };

export interface SendDeps {
  limiter: RateLimiter;
  sleep: (ms: number) => Promise<void>;
  /** False once the worker is stopping: give up without an outcome (the alert is redelivered later). */
  isRunning: () => boolean;
  /** Keeps the consumer's group membership alive during long backoffs. */
  heartbeat: () => Promise<void>;
  onRetry?: (error: KauditError, attempt: number, delayMs: number) => void;
}

/** Thrown when a send was abandoned because the worker stops; not an outcome, the batch is not committed. */
export class SendAbandoned extends KauditError {
  constructor() {
    super('SHUTDOWN_TIMEOUT', 'delivery abandoned: the worker is stopping', { retryable: true });
  }
}

/**
 * Sends one alert under the destination's rate limit, retrying 429/5xx/network failures with
 * exponential backoff — or exactly the vendor's Retry-After when it gave one — up to maxAttempts.
 * A permanent refusal (4xx) or exhausted retries is returned as a failure for the caller to
 * dead-letter; nothing here blocks other destinations (each has its own worker).
 */
export async function sendWithRetry(notifier: Notifier, alert: AlertRecord, policy: RetryPolicy, deps: SendDeps): Promise<SendOutcome> {
  for (let attempt = 1; ; attempt++) {
    await deps.limiter.acquire();
    try {
      await notifier.send(alert);
      return { ok: true, attempts: attempt };
    } catch (err) {
      const error = isKauditError(err) ? err : new KauditError('NOTIFIER_FAILED', (err as Error).message, { cause: err, retryable: true });
      if (!error.retryable || attempt >= policy.maxAttempts) return { ok: false, attempts: attempt, error };
      const retryAfter = typeof error.details.retryAfterMs === 'number' ? error.details.retryAfterMs : undefined;
      const backoff = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** (attempt - 1));
      // The worker is sequential per destination, so waiting here also holds back its next sends.
      const delay = retryAfter !== undefined ? Math.min(retryAfter, policy.maxBackoffMs * 4) : backoff;
      deps.onRetry?.(error, attempt, delay);
      // Sleep in slices: heartbeats continue, and a stop request is honoured promptly.
      for (let waited = 0; waited < delay; waited += 1000) {
        if (!deps.isRunning()) throw new SendAbandoned();
        await deps.sleep(Math.min(1000, delay - waited));
        await deps.heartbeat().catch(() => undefined);
      }
      if (!deps.isRunning()) throw new SendAbandoned();
    }
  }
}
