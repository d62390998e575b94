import { auditTraffic, type Scenario } from '@kaudit/audit-generator';
import { RAW_HEADERS, type IncomingRecord } from '@kaudit/kafka';

export interface WarmUpRawRecordsOptions {
  count: number;
  seed: number;
  /** Demo-generator scenarios mixed in (exec, 403 storms, …): more rule-relevant shapes to warm. */
  scenarios?: readonly Scenario[];
  /** The partition each record is placed in (the batch it belongs to); 0 when absent. */
  partitionOf?: (index: number) => number;
}

/**
 * Apiserver-like raw records as enrich fetches them from the raw topic: the demo generator's traffic, with the
 * headers ingest writes (as Buffers). One source for the event loop's warm-up and each enrich thread's, so both
 * warm the same shapes.
 */
export function warmUpRawRecords(options: WarmUpRawRecordsOptions): IncomingRecord[] {
  const receivedAt = Buffer.from(new Date().toISOString());
  const source = Buffer.from('webhook');
  const instance = Buffer.from('warm-up');
  const scenarios = options.scenarios ?? [];
  const traffic = auditTraffic({
    seed: options.seed,
    clusters: ['warm-up'],
    startMs: Date.now(),
    stepMs: 1,
    ...(scenarios.length === 0 ? {} : { scenarios, scenarioEvery: options.count / (scenarios.length + 1) }),
  });
  const records: IncomingRecord[] = [];
  for (let i = 0; i < options.count; i++) {
    const { cluster, event } = traffic.next().value as { cluster: string; event: Record<string, unknown> };
    records.push({
      topic: 'warm-up',
      partition: options.partitionOf?.(i) ?? 0,
      offset: String(i),
      key: Buffer.from(cluster),
      value: Buffer.from(JSON.stringify(event)),
      headers: { [RAW_HEADERS.source]: source, [RAW_HEADERS.receivedAt]: receivedAt, [RAW_HEADERS.instance]: instance, [RAW_HEADERS.cluster]: Buffer.from(cluster) },
      timestamp: String(Date.now()),
    });
  }
  return records;
}
