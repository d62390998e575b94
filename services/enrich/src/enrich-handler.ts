import { isKauditError, type ErrorCode } from '@kaudit/errors';
import type { BatchHandler, DeadLetterWriter, OutgoingRecord, Producer, RecordBatch } from '@kaudit/kafka';
import type { Telemetry } from '@kaudit/logging';
import type { EnrichMetrics } from './enrich-metrics.js';
import type { Enricher } from './enricher.js';
import { RawDecodeError } from './normalize/decode-raw-record.js';

export interface EnrichHandlerDeps {
  enricher: Enricher;
  producer: Producer;
  deadLetters: DeadLetterWriter;
  outputTopic: string;
  metrics: EnrichMetrics;
  telemetry: Telemetry;
}

function reasonOf(error: unknown): { code: ErrorCode; stage: string; message: string } {
  if (error instanceof RawDecodeError) return { code: error.code, stage: error.stage, message: error.message };
  if (isKauditError(error)) return { code: error.code, stage: 'enrich', message: error.message };
  // Anything else is a bug in enrich (e.g. Avro refused a built record): still dead-letter with the
  // original bytes so the partition moves and the record can be replayed after the fix.
  return { code: 'INTERNAL', stage: 'enrich', message: error instanceof Error ? error.message : String(error) };
}

/**
 * The consumer's batch handler: enrich every record of the batch (identity lookups run
 * concurrently), produce the enriched records, dead-letter the rest, and resolve only once both
 * writes are acknowledged — the consumer then commits. A Kafka failure throws, so the batch is
 * retried, never skipped.
 */
export function createEnrichHandler(deps: EnrichHandlerDeps): BatchHandler {
  return async (batch: RecordBatch) => {
    const outcomes = await Promise.all(batch.records.map((r) => deps.enricher.enrich(r)));
    const out: OutgoingRecord[] = [];
    const dead: Parameters<DeadLetterWriter['sendMany']>[0][number][] = [];
    outcomes.forEach((outcome, i) => {
      const raw = batch.records[i];
      if (raw === undefined) return;
      if (outcome.ok) {
        out.push(outcome.out);
        deps.metrics.operations.inc({ operation: outcome.record.operation });
        return;
      }
      const reason = reasonOf(outcome.error);
      dead.push({
        original: { value: raw.value, key: raw.key, headers: raw.headers, topic: raw.topic, partition: raw.partition, offset: raw.offset },
        reason,
      });
      deps.telemetry.emit({ event: 'record_dead_lettered', level: 'warn', fields: { code: reason.code, stage: reason.stage, reason: reason.message.slice(0, 300), partition: raw.partition, offset: raw.offset } });
    });
    await Promise.all([deps.producer.send(deps.outputTopic, out), deps.deadLetters.sendMany(dead)]);
    deps.metrics.records.inc({ outcome: 'enriched' }, out.length);
    deps.metrics.records.inc({ outcome: 'dead_lettered' }, dead.length);
    const behind = BigInt(batch.highWatermark) - BigInt(batch.lastOffset) - 1n;
    deps.metrics.lag.set({ topic: batch.topic, partition: String(batch.partition) }, Number(behind < 0n ? 0n : behind));
  };
}
