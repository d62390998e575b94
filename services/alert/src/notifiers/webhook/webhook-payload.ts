import { createHmac } from 'node:crypto';
import type { AlertRecord } from '@kaudit/audit-schema';

export const SIGNATURE_HEADER = 'x-kaudit-signature';
export const TIMESTAMP_HEADER = 'x-kaudit-timestamp';

/**
 * The request a generic webhook gets: the AlertRecord as JSON and, with a secret,
 * `X-Kaudit-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">` plus `X-Kaudit-Timestamp`
 * (unix seconds), so a receiver can verify origin and reject replays (the Stripe/Slack scheme).
 */
export function webhookRequest(alert: AlertRecord, secret: string | undefined, nowMs: number): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify({ version: 1, alert });
  if (secret === undefined) return { body, headers: {} };
  const timestamp = String(Math.floor(nowMs / 1000));
  const signature = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return { body, headers: { [SIGNATURE_HEADER]: `sha256=${signature}`, [TIMESTAMP_HEADER]: timestamp } };
}
