/**
 * Guarantee: an apiserver webhook batch in which a directory-known cloud account deletes the nginx
 * Deployment reaches Slack as a notification that names the person — not the account ID — within the
 * same pipeline a real deployment runs (ingest → Kafka → enrich → Kafka → alert → Slack webhook).
 *
 * Uses the suite's shared engines with topics and groups unique to this test, and a local HTTP receiver
 * that accepts only Slack's documented incoming-webhook format.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng, scenarioEvents, toEventList } from '@kaudit/audit-generator';
import { createKafkaClient } from '@kaudit/kafka';
import { freePort } from '@kaudit/stack';
import { ServiceProcess, silentLogger, slackWebhookSchema, testEndpoints, uniqueName } from '@kaudit/testkit';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

describe('a Deployment deleted by a cloud account reaches Slack naming the person', () => {
  const work = mkdtempSync(join(tmpdir(), 'kaudit-slack-e2e-'));
  const services: ServiceProcess[] = [];
  const slackBodies: unknown[] = [];
  const invalid: string[] = [];
  let slack: Server;
  let ingestUrl = '';
  const token = randomBytes(18).toString('base64url');
  const cluster = 'prod-eu-1';
  let passed = false;

  beforeAll(async () => {
    const { kafkaBrokers } = testEndpoints();
    const t = {
      raw: uniqueName('raw'),
      enriched: uniqueName('enriched'),
      alerts: uniqueName('alerts'),
      state: uniqueName('alertstate'),
      dlq: uniqueName('dlq'),
    };
    const admin = createKafkaClient({ brokers: [kafkaBrokers], clientId: 'slack-e2e', logger: silentLogger() }).admin();
    await admin.start();
    // The services' own partition counts: had ingest grown the raw topic after enrich subscribed,
    // kafkajs would notice the new partitions only at its next metadata refresh (minutes).
    await admin.ensureTopics([
      { topic: t.raw, partitions: 6 },
      { topic: t.enriched, partitions: 6 },
      { topic: t.alerts, partitions: 1 },
      { topic: t.state, partitions: 1, configs: { 'cleanup.policy': 'compact' } },
      { topic: t.dlq, partitions: 1 },
    ]);
    await admin.stop();

    slack = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        const parsed = slackWebhookSchema.safeParse(body);
        if (!parsed.success) {
          invalid.push(JSON.stringify(parsed.error.issues));
          res.writeHead(400).end('invalid_payload');
          return;
        }
        slackBodies.push(body);
        res.writeHead(200).end('ok'); // what Slack answers
      });
    });
    await new Promise<void>((r) => slack.listen(0, '127.0.0.1', () => r()));
    const address = slack.address();
    const slackUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/services/T000/B000/XXXX`;

    writeFileSync(join(work, 'clusters.yaml'), `clusters:\n  ${cluster}:\n    tokens:\n      - sha256: ${createHash('sha256').update(token).digest('hex')}\n`);
    writeFileSync(join(work, 'notifiers.yaml'), `notifiers:\n  - name: slack-platform\n    type: slack\n    webhookUrl: ${slackUrl}\n    route: { minSeverity: low }\n`);
    const group = uniqueName('g');
    const ingestPort = await freePort();
    const specs: [string, number, Record<string, string>][] = [
      ['alert', await freePort(), { ALERT_ENRICHED_TOPIC: t.enriched, ALERT_ALERTS_TOPIC: t.alerts, ALERT_STATE_TOPIC: t.state, ALERT_DLQ_TOPIC: t.dlq, ALERT_GROUP_PREFIX: group, ALERT_NOTIFIERS_FILE: join(work, 'notifiers.yaml'), ALERT_RULES_DIR: join(REPO, 'rules') }],
      ['enrich', await freePort(), { ENRICH_INPUT_TOPIC: t.raw, ENRICH_OUTPUT_TOPIC: t.enriched, ENRICH_DLQ_TOPIC: t.dlq, ENRICH_GROUP_ID: `${group}-enrich`, ENRICH_DIRECTORY_FILE: join(REPO, 'deploy', 'demo', 'directory.yaml') }],
      ['ingest', ingestPort, { INGEST_RAW_TOPIC: t.raw, INGEST_DLQ_TOPIC: t.dlq, CLUSTERS_FILE: join(work, 'clusters.yaml') }],
    ];
    for (const [service, httpPort, env] of specs) {
      const proc = new ServiceProcess({ service, httpPort, env: { KAFKA_BROKERS: kafkaBrokers, ...env }, logDir: join(work, 'logs') });
      services.push(proc);
      await proc.start();
    }
    ingestUrl = `http://127.0.0.1:${ingestPort}/v1/clusters/${cluster}/audit`;
  }, 180_000);

  afterAll(async () => {
    for (const proc of services.reverse()) await proc.stop().catch(() => undefined);
    slack?.close();
    if (passed) rmSync(work, { recursive: true, force: true });
    else console.error(`service logs kept in ${work}/logs`);
  }, 60_000);

  it('names Deng Wei (TKE account 100012347138), not the account ID', async () => {
    // The seeds' scenario: "account 10001****7138 deleted the NGINX application".
    const [deletion] = scenarioEvents(createRng(3), 'delete-nginx', Date.now() - 1000);
    const res = await fetch(ingestUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(toEventList([deletion as Record<string, unknown>])) });
    expect(res.status).toBe(200);

    const deadline = Date.now() + 60_000;
    while (slackBodies.length === 0 && Date.now() < deadline) await sleep(250);
    expect(invalid).toEqual([]);
    expect(slackBodies).toHaveLength(1);
    const text = JSON.stringify(slackBodies[0]);
    expect(text).toContain('Deng Wei');
    expect(text).toContain('deployments');
    expect(text).toContain('nginx');
    expect(text).toContain(cluster);
    passed = true;
  }, 120_000);
});
