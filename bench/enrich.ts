/**
 * Enrich throughput next to a raw kafkajs consume→produce loop over the same records, in the same
 * run on the same broker (issue 4: goal ≥ 0.6× the raw loop). Both read the same raw topic with
 * their own group and write to their own topic; throughput is measured on the output topic from
 * the first record out to the last, so consumer-group join time counts for neither.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from './raw-kafkajs.js';
import { Registry } from 'prom-client';
import { createKafkaClient, RAW_HEADERS, type KafkaAdmin } from '@kaudit/kafka';
import { buildEnrich, loadEnrichConfig } from '@kaudit/enrich';
import { Lifecycle } from '@kaudit/runtime';
import type { BenchFigure, BenchRun } from './bench-types.js';

const uniqueName = (prefix: string): string => `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;

const FIXTURES = fileURLToPath(new URL('../services/enrich/src/fixtures/', import.meta.url));

/**
 * The enrich fixtures weighted like typical audit policies: about three quarters Metadata-level (no
 * bodies), the rest Request/RequestResponse with Secrets, pods, RBAC, ConfigMaps and tokens.
 */
function sampleEvents(): Record<string, unknown>[] {
  const events = readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(`${FIXTURES}${f}`, 'utf8')) as Record<string, unknown>);
  const metadataOnly = events.filter((e) => e.level === 'Metadata');
  return [...events, ...Array.from({ length: 10 }, () => metadataOnly).flat()];
}

async function outputCount(admin: KafkaAdmin, topic: string): Promise<number> {
  return (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
}

/** Polls the output topic; returns events/s between the first record out and the n-th. */
async function measure(admin: KafkaAdmin, topic: string, n: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let first: { at: number; count: number } | undefined;
  for (;;) {
    const count = await outputCount(admin, topic);
    const at = performance.now();
    if (first === undefined && count > 0) first = { at, count };
    if (first !== undefined && count >= n) return (count - first.count) / ((at - first.at) / 1000);
    if (Date.now() > deadline) throw new Error(`only ${count}/${n} records reached ${topic} in time`);
    await sleep(100);
  }
}

export const run: BenchRun = async (ctx) => {
  const n = Math.max(2000, Math.round(30_000 * ctx.scale));
  const partitions = 3;
  const raw = uniqueName('bench_enrich_raw');
  const baselineOut = uniqueName('bench_enrich_baseline_out');
  const baselineOut2 = uniqueName('bench_enrich_baseline_out');
  const enrichOut = uniqueName('bench_enrich_out');
  const dlq = uniqueName('bench_enrich_dlq');
  const client = createKafkaClient({ brokers: [ctx.kafkaBrokers], clientId: 'bench-enrich', logger: ctx.logger });
  const admin = client.admin();
  await admin.start();
  const kafka = new Kafka({ clientId: 'bench-enrich-raw', brokers: [ctx.kafkaBrokers], logLevel: logLevel.NOTHING });
  try {
    await admin.ensureTopics([raw, baselineOut, baselineOut2, enrichOut, dlq].map((topic) => ({ topic, partitions })));

    // The same raw records for both: ingest's shape (JSON bytes, key = cluster, RAW_HEADERS).
    const events = sampleEvents();
    const producer = client.producer();
    await producer.start();
    for (let start = 0; start < n; start += 200) {
      const records = Array.from({ length: Math.min(200, n - start) }, (_, j) => {
        const i = start + j;
        const event = { ...(events[i % events.length] as Record<string, unknown>), auditID: `bench-${i}` };
        // Raw records are keyed by cluster: enough clusters that partitions get similar shares.
        const cluster = `cluster-${i % 24}`;
        return { key: cluster, value: JSON.stringify(event), headers: { [RAW_HEADERS.cluster]: cluster, [RAW_HEADERS.receivedAt]: new Date().toISOString() } };
      });
      await producer.send(raw, records);
    }
    await producer.stop();

    // Baseline: kafkajs eachBatch → idempotent acks=-1 produce of the same bytes → commit. Run once
    // before and once after enrich and averaged, so load drifting on a shared machine biases neither.
    const rawLoop = async (out: string): Promise<number> => {
      const rawProducer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await rawProducer.connect();
      const rawConsumer = kafka.consumer({ groupId: uniqueName('bench_enrich_baseline') });
      await rawConsumer.connect();
      await rawConsumer.subscribe({ topics: [raw], fromBeginning: true });
      await rawConsumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
          await rawProducer.send({ topic: out, acks: -1, messages: batch.messages.map((m) => ({ key: m.key, value: m.value, headers: m.headers })) });
          const last = batch.messages[batch.messages.length - 1];
          if (!last) return;
          resolveOffset(last.offset);
          await rawConsumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() }]);
          await heartbeat();
        },
      });
      try {
        return await measure(admin, out, n, 120_000);
      } finally {
        await rawConsumer.disconnect();
        await rawProducer.disconnect();
      }
    };
    const baselineBefore = await rawLoop(baselineOut);

    // Enrich: the real service, built from its parts, on its own topics.
    const config = loadEnrichConfig({
      KAFKA_BROKERS: ctx.kafkaBrokers,
      ENRICH_GROUP_ID: uniqueName('bench_enrich'),
      ENRICH_INPUT_TOPIC: raw,
      ENRICH_OUTPUT_TOPIC: enrichOut,
      ENRICH_DLQ_TOPIC: dlq,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
    });
    const service = new Lifecycle({ logger: ctx.logger, shutdownTimeoutMs: config.shutdownTimeoutMs }).add(...buildEnrich(config, { logger: ctx.logger, registry: new Registry(), kafka: client }).components);
    await service.start();
    let enriched: number;
    try {
      enriched = await measure(admin, enrichOut, n, 180_000);
    } finally {
      await service.stop();
    }
    const baselineAfter = await rawLoop(baselineOut2);
    const baseline = (baselineBefore + baselineAfter) / 2;
    ctx.logger.warn({ baselineBefore, enriched, baselineAfter }, 'enrich bench runs');
    const figures: BenchFigure[] = [
      {
        name: `enrich throughput (${n} events, ${partitions} partitions)`,
        value: enriched,
        unit: 'events/s',
        baseline,
        baselineName: 'raw kafkajs consume→produce, same records, mean of a run before and after',
        goal: '>= 0.6x',
      },
    ];
    return figures;
  } finally {
    await admin.deleteTopics([raw, baselineOut, baselineOut2, enrichOut, dlq]).catch(() => undefined);
    await admin.stop();
  }
};
