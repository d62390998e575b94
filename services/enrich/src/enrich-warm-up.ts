import { Registry } from 'prom-client';
import { type AuditRecordCodec, type EventTimeWindow } from '@kaudit/audit-schema';
import { DeadLetterWriter, decodeEnrichedBatch, type CodecWarmUpResult, type IncomingRecord, type OutgoingRecord, type ProduceAck, type Producer, type RecordBatch } from '@kaudit/kafka';
import { createTelemetry, type Logger } from '@kaudit/logging';
import type { WarmUpRound } from '@kaudit/runtime';
import { createEnrichHandler } from './enrich-handler.js';
import { EnrichMetrics } from './enrich-metrics.js';
import { Enricher } from './enricher.js';
import type { DirectoryIndex } from './identity/directory.js';
import { IdentityResolver } from './identity/identity-resolver.js';
import type { BuildOptions } from './normalize/build-audit-record.js';
import { warmUpRawRecords } from './warm-up-raw-records.js';

/** Distinct sample events per round: enough shapes (verbs, resources, levels, scenarios) to warm each path. */
const SAMPLES = 2000;
/**
 * Records per warm-up batch, spread over as many partitions as the raw topic has by default: the sizes a
 * fetch hands the handler at 5,000 events/s (tens to a few hundred records per partition), so the per-batch
 * code — the handler's loop, chunking, the produce encoding — runs as often per event as it will for real.
 */
const BATCH = 200;
const PARTITIONS = 6;
const SCENARIOS = ['exec-into-pod', 'ksm-403-storm', 'nginx-changes', 'delete-nginx', 'cordon-node'] as const;

export interface EnrichWarmUpDeps {
  codec: AuditRecordCodec;
  options: BuildOptions;
  window: EventTimeWindow;
  directory: () => DirectoryIndex;
  /** Names written into the warm-up's produce requests (they are encoded, never sent). */
  outputTopic: string;
  dlqTopic: string;
  /** The warm-up's own events (a dead-lettered sample would be logged here); its counters go nowhere. */
  logger: Logger;
  /**
   * KafkaClient.warmUpCodecs (in-process, it cannot send): the warm-up's produce requests are encoded and read
   * back as a fetch would read them, instead of going to a broker. Without it they are only counted.
   */
  kafkaCodecs?: (records: readonly OutgoingRecord[]) => Promise<CodecWarmUpResult>;
}

export interface EnrichWarmUp {
  round: () => Promise<WarmUpRound>;
  /** For warm_up_done: how many batches went through the handler and how many produce requests it built. */
  summary: () => Record<string, number>;
}

/**
 * A Producer that sends nothing: each send is encoded by the Kafka client's own produce code and read back
 * (kafkaCodecs), then acknowledged as if written. It has no connection, so the warm-up cannot reach a topic.
 */
function encodingOnlyProducer(kafkaCodecs: EnrichWarmUpDeps['kafkaCodecs'], counts: { requests: number; records: number }): Producer {
  return {
    start: async () => undefined,
    stop: async () => undefined,
    send: async (topic: string, records: readonly OutgoingRecord[]): Promise<ProduceAck[]> => {
      if (records.length === 0) return [];
      if (kafkaCodecs !== undefined) counts.requests += (await kafkaCodecs(records)).requests;
      // Events, not records: an enriched.v2 record carries a key's events of the batch (a dead letter is one).
      for (const r of records) {
        const batch = typeof r.value === 'string' ? undefined : decodeEnrichedBatch(r.value);
        counts.records += batch?.ok === true ? batch.events.length : 1;
      }
      return [{ topic, partition: 0, baseOffset: '-1' }];
    },
  };
}

/**
 * One warm-up round of enrich's hot path as the consumer drives it: batches of apiserver-like raw records
 * (the demo generator's traffic, with the headers ingest writes), each through the service's own batch
 * handler (createEnrichHandler) and an Enricher built like the service's — its codec (avsc compiles an
 * encoder per codec), options, event window and identity directory — then produced through the Kafka
 * client's encoding. The raw samples themselves also go through the fetch decoding once, as the
 * consumer's fetches of the raw topic do. Everything it touches is its own: no remote directory (a
 * warm-up calls no other system), a producer that encodes and drops (nothing reaches a topic, see
 * encodingOnlyProducer), metrics on a registry nobody scrapes (no real event is counted), no consumer
 * (no offset can be committed). Enough rounds must run for V8 to reach its optimized code: measured,
 * CPU per event fell until the 4th-5th round of 2,000 (431-499, 161-177, 110-127, 114-144, 102-116 µs) (see ENRICH_WARM_UP_EVENTS in docs/services.md).
 */
export function enrichWarmUp(deps: EnrichWarmUpDeps): EnrichWarmUp {
  const registry = new Registry();
  const metrics = new EnrichMetrics(registry);
  const identity = new IdentityResolver({ directory: deps.directory, remote: undefined, onResolved: (resolvedBy, remote) => metrics.identityResolved(resolvedBy, remote) });
  const enricher = new Enricher({ identity, codec: deps.codec, options: deps.options, window: deps.window });
  const produced = { requests: 0, records: 0 };
  const producer = encodingOnlyProducer(deps.kafkaCodecs, produced);
  const handler = createEnrichHandler({
    enricher,
    producer,
    deadLetters: new DeadLetterWriter({ producer, service: 'enrich', topic: deps.dlqTopic }),
    outputTopic: deps.outputTopic,
    metrics,
    telemetry: createTelemetry(deps.logger, registry, 'warm-up'),
  });
  let batchesHandled = 0;
  // Built at the first round (a service with the warm-up off never builds them).
  let batches: RecordBatch[] | undefined;
  let inputDecoded = false;
  const build = (): RecordBatch[] => {
    const all = warmUpRawRecords({ count: SAMPLES, seed: 1, scenarios: SCENARIOS, partitionOf: (i) => Math.floor(i / BATCH) % PARTITIONS });
    const out: RecordBatch[] = [];
    for (let first = 0; first < SAMPLES; first += BATCH) {
      const records = all.slice(first, first + BATCH);
      const head = records[0] as IncomingRecord;
      const last = records[records.length - 1] as IncomingRecord;
      out.push({ topic: 'warm-up', partition: head.partition, records, firstOffset: head.offset, lastOffset: last.offset, highWatermark: String(SAMPLES) });
    }
    return out;
  };
  const ctx = { heartbeat: async () => undefined, isRunning: () => true, generation: 0 };
  const round = async (): Promise<WarmUpRound> => {
    batches ??= build();
    // The raw topic's fetches: compressed JSON record sets of this size, decoded by the Kafka client — in the first
    // round only: each send below reads its Avro records back through the same decoding, and encoding 2,000 JSON
    // records (ingest's work, not enrich's) every round was most of a round's CPU.
    if (!inputDecoded) {
      inputDecoded = true;
      await deps.kafkaCodecs?.(batches.flatMap((b) => b.records.map((r) => ({ key: r.key, value: r.value as Buffer, headers: r.headers }))));
    }
    const before = produced.records;
    let events = 0;
    for (const batch of batches) {
      await handler(batch, ctx);
      batchesHandled++;
      events += batch.records.length;
    }
    return { events, outputs: produced.records - before };
  };
  return { round, summary: () => ({ batches: batchesHandled, produceRequests: produced.requests }) };
}
