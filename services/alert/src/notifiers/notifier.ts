import type { AlertRecord } from '@kaudit/audit-schema';

/**
 * One notification destination. `send` only does I/O (the payload comes from a pure builder); it
 * resolves once the vendor accepted the alert and throws a NOTIFIER_FAILED KauditError otherwise,
 * `retryable` for 429/5xx/network failures, with `details.retryAfterMs` when the vendor said when.
 */
export interface Notifier {
  readonly type: string;
  send(alert: AlertRecord): Promise<void>;
}

/** What every notifier gets from the composition root. */
export interface NotifierDeps {
  fetch: typeof fetch;
  /** Wall clock, ms since epoch (for signatures and timestamps). */
  nowMs: () => number;
  timeoutMs: number;
}
