import { createHash } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { Registry } from 'prom-client';
import { loadConfig } from '@kaudit/config';
import { createKafkaClient, type KafkaAdmin, type KafkaClient } from '@kaudit/kafka';
import { Lifecycle } from '@kaudit/runtime';
import { consumeRawEvents, silentLogger, uniqueName } from '@kaudit/testkit';
import { INGEST_ENV, ingestConfigSchema } from '../config.js';
import { buildIngest, type BuiltIngest } from '../build-ingest.js';

export const TOKENS = { prodEu: 'token-prod-eu-0123456789', prodUs: 'token-prod-us-9876543210' } as const;
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

export const CLUSTERS_YAML = `clusters:
  prod-eu:
    tokens:
      - sha256: ${sha(TOKENS.prodEu)}
  prod-us:
    tokens:
      - env: PROD_US_TOKEN
    clientCertCommonNames: [apiserver-prod-us]
`;

export interface RunningIngest {
  url: string;
  /** The health/metrics server (INGEST_METRICS_PORT), apart from the webhook port. */
  metricsUrl: string;
  rawTopic: string;
  dlqTopic: string;
  kafka: KafkaClient;
  admin: KafkaAdmin;
  service: BuiltIngest;
  registry: Registry;
  stop(): Promise<void>;
  /** Records on a topic so far (sum of high watermarks): exact, unlike a consumer with a timeout. */
  count(topic: string): Promise<number>;
  /** Audit events on a raw topic so far (a raw.v2 record holds many): exact too, it reads every record there is. */
  countEvents(topic: string): Promise<number>;
}

/** Runs the real ingest service in-process on a free port, with topics of its own on the given broker. */
export async function startIngest(options: {
  brokers: string;
  env?: Record<string, string>;
  tls?: { certFile: string; keyFile: string; clientCaFile?: string };
}): Promise<RunningIngest> {
  const rawTopic = uniqueName('raw');
  const dlqTopic = uniqueName('dlq');
  // The fixtures' events carry fixed dates (2026-11-22): a ten-year retention keeps them accepted for years.
  const env = { KAFKA_BROKERS: options.brokers, HTTP_PORT: '0', INGEST_METRICS_PORT: '0', CLUSTERS_FILE: 'clusters.test.yaml', PROD_US_TOKEN: TOKENS.prodUs, KAUDIT_RETENTION_DAYS: '3650', ...options.env };
  const config = loadConfig(ingestConfigSchema, {
    env,
    envMap: INGEST_ENV,
    file: { kafka: { rawTopic, dlqTopic }, instance: 'test-instance', ...(options.tls ? { http: { tls: options.tls } } : {}) },
  });
  const logger = silentLogger('ingest-test');
  const kafka = createKafkaClient({ brokers: [options.brokers], clientId: uniqueName('ingest-test'), logger });
  const registry = new Registry();
  const service = buildIngest(config, { logger, registry, env, kafka, clustersText: CLUSTERS_YAML });
  const lifecycle = new Lifecycle({ logger, shutdownTimeoutMs: 15_000 });
  for (const c of service.components) lifecycle.add(c);
  await lifecycle.start();
  const admin = kafka.admin();
  await admin.start();
  const scheme = options.tls ? 'https' : 'http';
  return {
    url: `${scheme}://127.0.0.1:${service.server.port}`,
    metricsUrl: `http://127.0.0.1:${service.health.port}`,
    rawTopic,
    dlqTopic,
    kafka,
    admin,
    service,
    registry,
    async stop() {
      await admin.stop().catch(() => undefined);
      await lifecycle.stop().catch(() => undefined);
    },
    async count(topic) {
      const offsets = await admin.fetchTopicOffsets(topic);
      return offsets.reduce((sum, p) => sum + Number(p.high), 0);
    },
    async countEvents(topic) {
      return (await consumeRawEvents(kafka, topic, 60_000)).length;
    },
  };
}

export interface SendResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  json(): Record<string, unknown>;
}

/**
 * One HTTP request with node:http, tolerant of the server answering before the body is fully sent
 * (413 while streaming): the answer counts, a later EPIPE on the upload does not.
 */
export function send(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: Buffer | string | Buffer[]; tls?: Pick<RequestOptions, 'ca' | 'cert' | 'key'> } = {},
): Promise<SendResult> {
  const target = new URL(url);
  const requestFn = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const chunks = init.body === undefined ? [] : Array.isArray(init.body) ? init.body : [Buffer.from(init.body)];
  const headers: Record<string, string> = { ...init.headers };
  if (!Array.isArray(init.body) && init.body !== undefined) headers['content-length'] = String(Buffer.byteLength(init.body));
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = requestFn(
      { hostname: target.hostname, port: target.port, path: target.pathname + target.search, method: init.method ?? 'POST', headers, ...(init.tls ?? {}), agent: false },
      (res) => {
        answered = true;
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(parts).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) as Record<string, unknown> });
        });
      },
    );
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    void (async () => {
      for (const chunk of chunks) {
        if (answered || req.destroyed) break;
        if (!req.write(chunk)) {
          await new Promise<void>((r) => {
            const done = () => {
              req.off('drain', done);
              req.off('close', done);
              r();
            };
            req.on('drain', done);
            req.on('close', done);
          });
        }
      }
      req.end();
    })();
  });
}
