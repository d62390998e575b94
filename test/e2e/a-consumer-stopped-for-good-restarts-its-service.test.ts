/**
 * Guarantee (DESIGN.md: nothing is dropped silently): a service whose Kafka consumer stopped for good does not
 * stay up — answering /healthz and /readyz — while it consumes nothing, which would delay every row and alert
 * behind it forever. It logs the crash with its code, counts it, fails its probes and exits non-zero, so the
 * orchestrator restarts it.
 *
 * Provoked for real, while the service consumes: a private broker with ACLs (one JVM for this file), the service's
 * group loses its Read ACL, the next heartbeat is refused with GROUP_AUTHORIZATION_FAILED — which kafkajs does not
 * retry — and its consumer crashes without restarting (kafkajs' CRASH event with restart: false).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng, scenarioEvents } from '@kaudit/audit-generator';
import { createClickHouse, runMigrations } from '@kaudit/clickhouse';
import { Secret } from '@kaudit/config';
import { createKafkaClient, RAW_HEADERS, type KafkaClient } from '@kaudit/kafka';
import { freePort } from '@kaudit/stack';
import { consumeEnrichedEvents, ServiceProcess, silentLogger, startSecuredKafka, testEndpoints, uniqueName, type KafkaAcl, type SecuredKafka } from '@kaudit/testkit';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const logger = silentLogger();
// Kept after the run: the services' logs are what explains a failure here.
const work = join(REPO, '.kaudit', 'test-logs', uniqueName('consumer-stopped'));
let kafka: SecuredKafka;
/** The admin (a super user): creates topics, produces and reads what the tests need, whatever the ACLs say. */
let admin: KafkaClient;

/** Everything but consuming in a group: the services' topics (produce, read, create) and the cluster. */
const baseAcls = (): KafkaAcl[] => [
  { user: kafka.user.username, operations: ['All'], resource: { topic: '*' } },
  { user: kafka.user.username, operations: ['All'], resource: { cluster: true } },
];
/** What the test takes away while the service consumes. */
const groupAcl = (): KafkaAcl => ({ user: kafka.user.username, operations: ['Read'], resource: { group: '*' } });

beforeAll(async () => {
  kafka = await startSecuredKafka(logger, { authorizer: true });
  const password = new Secret(kafka.admin?.password ?? '');
  admin = createKafkaClient({
    brokers: [kafka.saslSslBrokers],
    clientId: 'consumer-stopped-admin',
    logger,
    ssl: { caFile: kafka.certs.caFile },
    sasl: { mechanism: 'plain', username: kafka.admin?.username ?? '', password },
  });
  for (const acl of baseAcls()) await kafka.grant(acl);
}, 240_000);

afterAll(async () => {
  await kafka?.stop();
}, 60_000);

function securedEnv(): Record<string, string> {
  return {
    KAFKA_BROKERS: kafka.saslSslBrokers,
    KAFKA_SSL: 'true',
    KAFKA_SSL_CA_FILE: kafka.certs.caFile,
    KAFKA_SASL_MECHANISM: 'scram-sha-512',
    KAFKA_SASL_USERNAME: kafka.user.username,
    KAFKA_SASL_PASSWORD: kafka.user.password,
  };
}

async function createTopics(topics: readonly string[]): Promise<void> {
  const a = admin.admin();
  await a.start();
  try {
    await a.ensureTopics(topics.map((topic) => ({ topic, partitions: 2 })));
  } finally {
    await a.stop();
  }
}

async function probe(port: number, path: '/readyz' | '/healthz'): Promise<number | 'down'> {
  return fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2000) }).then((r) => r.status, () => 'down' as const);
}

/**
 * Takes the group ACL away from a running service and returns how it ended: its exit code, or — the defect —
 * still running after a generous wait, with what its probes answered then.
 */
async function revokeAndWait(service: ServiceProcess, port: number): Promise<{ exitCode: number | null | undefined; probes?: unknown }> {
  await kafka.revoke(groupAcl());
  const exitCode = await service.waitForExit(90_000);
  if (exitCode !== undefined) return { exitCode };
  return { exitCode, probes: { readyz: await probe(port, '/readyz'), healthz: await probe(port, '/healthz') } };
}

/** The log lines of the crash: kafkajs' refusal, with our code, logged as an error and followed by the shutdown. */
function crashLines(logFile: string): Record<string, unknown>[] {
  return readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.event === 'consumer_crashed_for_good' || l.event === 'service_failed');
}

function expectStoppedForGood(ended: { exitCode: number | null | undefined; probes?: unknown }, logFile: string): void {
  expect(ended).toEqual({ exitCode: 1 });
  const lines = crashLines(logFile);
  // Every consumer of the service that was running when the ACL went crashed (alert has two), then one shutdown.
  const crashed = lines.filter((l) => l.event === 'consumer_crashed_for_good');
  expect(crashed.length).toBeGreaterThan(0);
  for (const line of crashed) expect(line).toMatchObject({ level: 50, code: 'KAFKA_REJECTED', kafkaError: 'GROUP_AUTHORIZATION_FAILED' });
  expect(lines.filter((l) => l.event === 'service_failed')).toEqual([expect.objectContaining({ level: 50, code: 'KAFKA_REJECTED' })]);
}

/**
 * Lets the service's group consume, starts the service, runs `whileConsuming`, then takes the group's ACL away and
 * checks how the service ended.
 */
async function expectEndWhenGroupAclGoes(service: ServiceProcess, port: number, whileConsuming: () => Promise<void> = async () => undefined): Promise<void> {
  await kafka.grant(groupAcl());
  try {
    await service.start(120_000);
    await whileConsuming();
    expectStoppedForGood(await revokeAndWait(service, port), service.logFile);
  } finally {
    await service.stop();
  }
}

describe('a consumer that kafkajs will not restart ends its service (non-zero exit), instead of leaving it up and ready', () => {
  it('enrich', async () => {
    const topics = { raw: uniqueName('raw'), enriched: uniqueName('enriched'), dlq: uniqueName('dlq') };
    await createTopics(Object.values(topics));
    const port = await freePort();
    const service = new ServiceProcess({
      service: 'enrich',
      httpPort: port,
      logDir: join(work, 'enrich'),
      env: { ...securedEnv(), ENRICH_GROUP_ID: uniqueName('enrich'), ENRICH_INPUT_TOPIC: topics.raw, ENRICH_OUTPUT_TOPIC: topics.enriched, ENRICH_DLQ_TOPIC: topics.dlq },
    });
    // It consumes: one event goes through before the ACL is taken away.
    await expectEndWhenGroupAclGoes(service, port, async () => {
      const [event] = scenarioEvents(createRng(7), 'cordon-node', Date.now() - 60_000);
      const producer = admin.producer();
      await producer.start();
      const headers = { [RAW_HEADERS.cluster]: 'acl-1', [RAW_HEADERS.receivedAt]: new Date().toISOString(), [RAW_HEADERS.source]: 'webhook', [RAW_HEADERS.instance]: 'test' };
      await producer.send(topics.raw, [{ key: 'acl-1', value: JSON.stringify(event), headers }]);
      await producer.stop();
      expect(await consumeEnrichedEvents(admin, topics.enriched, 1, 60_000)).toHaveLength(1);
    });
  }, 300_000);

  it('alert (with a destination: its evaluator, state reader and delivery worker all consume)', async () => {
    const topics = { enriched: uniqueName('enriched'), alerts: uniqueName('alerts'), dlq: uniqueName('dlq'), state: uniqueName('state') };
    await createTopics(Object.values(topics));
    const notifiers = join(work, 'notifiers.yaml');
    mkdirSync(work, { recursive: true });
    // A destination nothing is sent to (no alert is raised here): it only gives the service a delivery worker.
    writeFileSync(notifiers, 'notifiers:\n  - type: webhook\n    name: hook\n    url: http://127.0.0.1:9/never\n');
    const port = await freePort();
    const service = new ServiceProcess({
      service: 'alert',
      httpPort: port,
      logDir: join(work, 'alert'),
      env: {
        ...securedEnv(),
        ALERT_GROUP_PREFIX: uniqueName('alert'),
        ALERT_ENRICHED_TOPIC: topics.enriched,
        ALERT_ALERTS_TOPIC: topics.alerts,
        ALERT_DLQ_TOPIC: topics.dlq,
        ALERT_STATE_TOPIC: topics.state,
        ALERT_NOTIFIERS_FILE: notifiers,
      },
    });
    await expectEndWhenGroupAclGoes(service, port);
  }, 300_000);

  it('sink', async () => {
    const { clickhouseUrl } = testEndpoints();
    const database = uniqueName('stopped');
    const ch = createClickHouse({ url: clickhouseUrl });
    try {
      await runMigrations({ client: ch, dir: join(REPO, 'migrations', 'clickhouse'), database, logger, vars: { retention_days: 3650 } });
    } finally {
      await ch.close();
    }
    const topics = { enriched: uniqueName('enriched'), alerts: uniqueName('alerts'), dlq: uniqueName('dlq') };
    await createTopics(Object.values(topics));
    const port = await freePort();
    const service = new ServiceProcess({
      service: 'sink',
      httpPort: port,
      logDir: join(work, 'sink'),
      env: {
        ...securedEnv(),
        SINK_GROUP_ID: uniqueName('sink'),
        SINK_ENRICHED_TOPIC: topics.enriched,
        SINK_ALERTS_TOPIC: topics.alerts,
        SINK_DLQ_TOPIC: topics.dlq,
        CLICKHOUSE_URL: clickhouseUrl,
        CLICKHOUSE_DATABASE: database,
      },
    });
    await expectEndWhenGroupAclGoes(service, port);
  }, 300_000);
});
