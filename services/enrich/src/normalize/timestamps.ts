import { parseRfc3339 } from '@kaudit/audit-schema';
import { KauditError } from '@kaudit/errors';

/**
 * RFC 3339 → microseconds since the epoch, by the parser ingest's and enrich's acceptance check use
 * (so a time that passed it converts the same way): real calendar instants only, all six fraction
 * digits kept (Date keeps only milliseconds).
 */
export function toMicros(timestamp: string): number {
  const parsed = parseRfc3339(timestamp);
  if (!parsed.ok) throw new KauditError('INPUT_INVALID', parsed.reason);
  return parsed.micros;
}
