import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient, type KafkaAdmin, type KafkaClient, type Producer } from '@kaudit/kafka';
import { silentLogger, slackWebhookSchema, testEndpoints, uniqueName } from '@kaudit/testkit';
import { AlertMetrics } from '../alert-metrics.js';
import { CheckpointStore } from '../pipeline/checkpoint-store.js';
import { sampleAlert } from '../notifiers/test-helpers/sample-alert.js';
import { VendorReceiver } from '../notifiers/test-helpers/vendor-receiver.js';
import { caughtUp } from '../test-support/caught-up.js';
import { deliveryOutcome, slackDestinationWorker } from '../test-support/slack-destination-worker.js';
import { RecentIds } from './recent-ids.js';

const PARTITIONS = 3;
const PER_PARTITION = 20;
/** How long the first worker's state writes take: a commit that does not wait for them shows as ids missing. */
const SLOW_WRITE_MS = 1500;

/** The real store on the real topic, each write held back first (a slow broker): time for an early commit to show. */
class SlowWritingStore extends CheckpointStore {
  override async putMany(entries: readonly { key: string; value: Buffer }[]): Promise<void> {
    await sleep(SLOW_WRITE_MS);
    await super.putMany(entries);
  }
}

/**
 * A delivery worker handling every alerts partition at once writes their delivered ids together (issue 15). The
 * guarantees that rest on those ids must hold for each partition of such a round: once the worker's offsets are
 * committed, every partition's delivered ids are in the state topic, so a worker that reads the same alerts again
 * (a restart whose commit was lost, a rebalance) refuses each one as a duplicate instead of paging twice.
 */
describe('delivered ids of partitions delivered at once are durable before their offsets commit (real Kafka, real HTTP receiver)', () => {
  const logger = silentLogger('delivered-ids');
  const topics = { alerts: uniqueName('alerts'), dlq: uniqueName('dlq'), state: uniqueName('state') };
  const slack = new VendorReceiver({ schema: slackWebhookSchema });
  const registry = new Registry();
  const metrics = new AlertMetrics(registry);
  let kafka: KafkaClient;
  let admin: KafkaAdmin;
  let producer: Producer;
  let slackUrl: string;
  const running: { stop(): Promise<void> }[] = [];

  async function startStore(slow = false): Promise<CheckpointStore> {
    const deps = { kafka, producer, topic: topics.state, groupPrefix: uniqueName('ids'), logger };
    const store = slow ? new SlowWritingStore(deps) : new CheckpointStore(deps);
    await store.start();
    running.push(store);
    return store;
  }

  async function startWorker(groupPrefix: string, slowWrites = false): Promise<void> {
    const store = await startStore(slowWrites);
    const worker = slackDestinationWorker({ kafka, producer, store, logger, registry, metrics, topics, groupPrefix, name: 'slack', slackUrl, perSecond: 1000, burst: 100, maxAgeMs: 3_600_000, partitionsConcurrently: PARTITIONS });
    await worker.start();
    running.push(worker);
    await worker.waitForAssignment(60_000);
  }

  const outcome = (name: string) => deliveryOutcome(registry, name);

  beforeAll(async () => {
    slackUrl = await slack.start();
    kafka = createKafkaClient({ brokers: [testEndpoints().kafkaBrokers], clientId: 'delivered-ids', logger });
    admin = kafka.admin();
    await admin.start();
    await admin.ensureTopics([
      { topic: topics.alerts, partitions: PARTITIONS },
      { topic: topics.dlq, partitions: 1 },
    ]);
    producer = kafka.producer();
    await producer.start();
  });

  afterAll(async () => {
    for (const c of running.splice(0).reverse()) await c.stop();
    await producer?.stop();
    await admin?.stop();
    await slack.stop();
  });

  it("after the commit every partition's ids are stored; a second reading of the same alerts pages no one twice", async () => {
    const nowUs = Date.now() * 1000;
    const ids = Array.from({ length: PARTITIONS }, (_, p) => Array.from({ length: PER_PARTITION }, (_, i) => uniqueName(`a${p}-${i}`)));
    // Every partition at once, in one send: the worker's fetch brings batches of all of them together.
    await producer.send(
      topics.alerts,
      ids.flatMap((partitionIds, partition) => partitionIds.map((alertId) => ({ key: alertId, partition, value: JSON.stringify(sampleAlert({ alertId, summary: alertId, createdUs: nowUs })) }))),
    );
    const first = uniqueName('deliver');
    await startWorker(first, true);
    await slack.waitFor(PARTITIONS * PER_PARTITION);
    await caughtUp(admin, `${first}-deliver-slack`, topics.alerts);

    // Read back by a store of its own: what a restarted process would find.
    const reader = await startStore();
    for (let p = 0; p < PARTITIONS; p++) {
      const saved = reader.get(`sent:slack:${topics.alerts}:${p}`);
      expect(saved, `partition ${p}'s delivered ids`).toBeDefined();
      const recent = RecentIds.parse(1000, saved as Buffer);
      expect(ids[p]?.filter((id) => !recent?.has(id)), `partition ${p}: delivered ids missing from the state topic`).toEqual([]);
    }

    // The same alerts read again from the start (another group: as if no offset had been committed).
    const second = uniqueName('deliver');
    await startWorker(second);
    await caughtUp(admin, `${second}-deliver-slack`, topics.alerts);
    expect(await outcome('duplicate_skipped')).toBe(PARTITIONS * PER_PARTITION);
    expect(slack.accepted).toHaveLength(PARTITIONS * PER_PARTITION);
    expect(new Set(slack.accepted.map((r) => (r.json as { text: string }).text)).size).toBe(PARTITIONS * PER_PARTITION);
  });
});
