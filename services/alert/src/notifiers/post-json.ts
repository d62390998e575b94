import { KauditError } from '@kaudit/errors';
import type { NotifierDeps } from './notifier.js';

/** `Retry-After` is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

export interface PostJsonRequest {
  /** Destination name for error messages; never the URL, which is often the secret. */
  destination: string;
  url: string;
  body: string;
  headers?: Record<string, string>;
}

/**
 * POSTs a JSON body and classifies the outcome: 2xx resolves; 429 and 5xx (and network errors,
 * timeouts) are retryable; any other status is a permanent refusal (bad payload or credentials),
 * which retrying would not fix.
 */
export async function postJson(deps: NotifierDeps, req: PostJsonRequest): Promise<void> {
  let res: Response;
  try {
    res = await deps.fetch(req.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...req.headers },
      body: req.body,
      signal: AbortSignal.timeout(deps.timeoutMs),
    });
  } catch (cause) {
    throw new KauditError('NOTIFIER_FAILED', `${req.destination}: request failed: ${(cause as Error).message}`, { cause, retryable: true });
  }
  const text = await res.text().catch(() => '');
  if (res.ok) return;
  const retryable = res.status === 429 || res.status >= 500;
  const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), deps.nowMs());
  throw new KauditError('NOTIFIER_FAILED', `${req.destination}: HTTP ${res.status} ${text.slice(0, 300)}`, {
    retryable,
    details: { status: res.status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) },
  });
}
