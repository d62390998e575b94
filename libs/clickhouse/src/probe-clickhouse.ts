import type { KauditError } from '@kaudit/errors';
import type { ClickHouse } from './create-clickhouse.js';
import { toClickHouseError } from './to-clickhouse-error.js';

/**
 * One round trip at start-up, classified: undefined when ClickHouse answers, else the error. A caller
 * fails its start on a non-retryable one (an untrusted certificate does not fix itself by waiting) and
 * only reports a retryable one (an outage at start is what the retry loops are for).
 */
export async function probeClickHouse(client: ClickHouse): Promise<KauditError | undefined> {
  try {
    await (await client.query({ query: 'SELECT 1', format: 'JSONEachRow' })).json();
    return undefined;
  } catch (err) {
    return toClickHouseError(err, 'connecting to ClickHouse');
  }
}
