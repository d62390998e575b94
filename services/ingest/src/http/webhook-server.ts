import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { TLSSocket } from 'node:tls';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { isKauditError, KauditError } from '@kaudit/errors';
import type { Telemetry } from '@kaudit/logging';
import { registerProbeRoutes, type Component, type ReadinessCheck } from '@kaudit/runtime';
import type { ClusterDirectory } from '../clusters/cluster-directory.js';
import type { IngestMetrics } from '../ingest-metrics.js';
import type { IngestPipeline } from '../ingest-pipeline.js';
import { checkedEvents, type BodyChecker } from '../body/body-checker.js';
import { readBody } from '../body/read-body.js';
import { InflightBudget } from './inflight-budget.js';

export interface WebhookServerOptions {
  host: string;
  port: number;
  tls?: { cert: Buffer; key: Buffer; clientCa?: Buffer };
  limits: { maxBodyBytes: number; maxJsonDepth: number; maxInflightBytes: number; maxInflightBytesPerCluster?: number | undefined; bodyTimeoutMs: number; idleTimeoutMs: number };
  /** A batch not acknowledged by Kafka within this is answered 503 (the apiserver retries). */
  produceTimeoutMs: number;
  clusters: ClusterDirectory;
  pipeline: IngestPipeline;
  /** Parses and validates bodies (on worker threads when configured). */
  bodyChecker: BodyChecker;
  metrics: IngestMetrics;
  readiness: readonly ReadinessCheck[];
  telemetry: Telemetry;
  now?: () => Date;
}

/** What the DLQ keeps of a refused body: enough to identify and replay it, under Kafka's ~1 MiB message limit. */
const DLQ_MAX_BYTES = 900 * 1024;
const RETRY_AFTER_OVERLOADED_S = '5';
const RETRY_AFTER_KAFKA_S = '10';

type Problem = { status: number; code: string; message: string; retryAfter?: string };

/**
 * The audit webhook: `POST /v1/clusters/{cluster}/audit` plus /healthz /readyz for probes. /metrics
 * (which names clusters) is on the separate health server, not here where every apiserver can reach it.
 * Answers 200 only after Kafka acknowledged every event of the batch; bad bodies get a 4xx with a
 * clear message and land in the DLQ once; Kafka trouble is a 503 with Retry-After, never a 2xx.
 */
export class WebhookServer implements Component {
  readonly name = 'webhook-server';
  readonly #o: WebhookServerOptions;
  readonly #app: FastifyInstance;
  readonly #budget: InflightBudget;
  readonly #now: () => Date;
  #port: number;

  constructor(options: WebhookServerOptions) {
    this.#o = options;
    this.#now = options.now ?? (() => new Date());
    this.#port = options.port;
    const limits = options.limits;
    // A cluster's share holds at least one whole body, so a (gzip-inflated) body is never refused for its size alone.
    this.#budget = new InflightBudget(limits.maxInflightBytes, limits.maxInflightBytesPerCluster ?? Math.max(limits.maxBodyBytes, Math.floor(limits.maxInflightBytes / 4)));
    const tls = options.tls;
    this.#app = Fastify({
      logger: false,
      exposeHeadRoutes: false,
      // The body is read by the handler (streamed, capped, gzip-aware), not by fastify.
      bodyLimit: options.limits.maxBodyBytes,
      serverFactory: (handler) => {
        // Node's own request timeout (5 minutes by default, checked every 30 s) only backs up the
        // handler's body/idle timeouts (readBody), e.g. for a client that never finishes its headers.
        const timeouts = { requestTimeout: options.limits.bodyTimeoutMs + 10_000, headersTimeout: Math.min(60_000, options.limits.bodyTimeoutMs + 10_000), connectionsCheckingInterval: 1000 };
        return tls
          ? // An https.Server has the same request API as http.Server; fastify's typing just does not know it here.
            (createHttpsServer({ cert: tls.cert, key: tls.key, ...(tls.clientCa ? { ca: tls.clientCa, requestCert: true } : {}), rejectUnauthorized: false, ...timeouts }, handler) as unknown as Server)
          : createHttpServer(timeouts, handler);
      },
    });
    // Leave the body stream untouched for every content type; the handler decides (415, 413, gzip…).
    this.#app.removeAllContentTypeParsers();
    this.#app.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
    registerProbeRoutes(this.#app, { readiness: options.readiness });
    this.#app.route({
      method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
      url: '/v1/clusters/:cluster/audit',
      handler: (req, reply) => this.#handle(req, reply),
    });
    this.#app.setErrorHandler((err, _req, reply) => {
      options.telemetry.emit({ event: 'request_failed', level: 'error', fields: { err } });
      return reply.code(500).send({ error: 'INTERNAL', message: 'internal error' });
    });
  }

  get port(): number {
    return this.#port;
  }

  async start(): Promise<void> {
    await this.#app.listen({ host: this.#o.host, port: this.#o.port });
    const address = this.#app.server.address();
    if (address !== null && typeof address === 'object') this.#port = address.port;
  }

  /** Stops accepting, lets in-flight requests finish (their batches get acknowledged or a 503), then closes. */
  async stop(): Promise<void> {
    await this.#app.close();
  }

  async #handle(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const o = this.#o;
    const receivedAt = this.#now();
    const cluster = (req.params as { cluster: string }).cluster;
    const auth = o.clusters.authenticate(cluster, { bearerToken: bearerToken(req.headers.authorization), certCommonName: clientCommonName(req) });
    const metricCluster = o.clusters.has(cluster) ? cluster : 'unknown';
    const answer = (status: number, body: Record<string, unknown>, retryAfter?: string): FastifyReply => {
      o.metrics.requests.inc({ code: String(status), cluster: metricCluster });
      if (retryAfter !== undefined) void reply.header('retry-after', retryAfter);
      return reply.code(status).send(body);
    };
    // Unauthenticated callers never reach the DLQ: it is for the input of known clusters. They all get
    // the same 401; only the log says why (the cluster name is the caller's, so it is cut short).
    if (!auth.ok) {
      o.telemetry.emit({ event: 'request_unauthenticated', level: 'warn', fields: { cluster: cluster.slice(0, 80), reason: auth.reason, remoteAddress: req.ip } });
      return answer(auth.status, { error: auth.code, message: auth.message });
    }

    const contentLength = Number(req.headers['content-length'] ?? NaN);
    const reserve = Number.isFinite(contentLength) ? Math.min(contentLength, o.limits.maxBodyBytes) : o.limits.maxBodyBytes;
    if (!this.#budget.tryAcquire(auth.cluster, reserve)) {
      o.telemetry.emit({ event: 'request_shed', level: 'warn', fields: { cluster, inflightBytes: this.#budget.used, clusterInflightBytes: this.#budget.usedBy(auth.cluster) } });
      return answer(429, { error: 'OVERLOADED', message: 'too many bytes in flight for this cluster or in total; retry later' }, RETRY_AFTER_OVERLOADED_S);
    }
    try {
      const problem = await this.#process(req, auth.cluster, receivedAt, reserve);
      if ('accepted' in problem) return answer(200, problem);
      // The rest of an unread body is not worth reading: close instead of keeping the connection.
      if (problem.status === 413 || problem.status === 408) void reply.header('connection', 'close');
      return answer(problem.status, { error: problem.code, message: problem.message }, problem.retryAfter);
    } finally {
      this.#budget.release(auth.cluster, reserve);
    }
  }

  async #process(req: FastifyRequest, cluster: string, receivedAt: Date, reserved: number): Promise<Problem | { accepted: number; rejected: number; truncated: number; errors: { index: number; reason: string }[] }> {
    const o = this.#o;
    const stream = req.raw;
    const refuse = async (status: number, code: 'INPUT_INVALID' | 'INPUT_TOO_LARGE', stage: string, message: string, bytes: Buffer): Promise<Problem> => {
      o.telemetry.emit({ event: 'request_refused', level: 'warn', fields: { cluster, status, stage, reason: message } });
      try {
        await o.pipeline.deadLetter(bytes.subarray(0, DLQ_MAX_BYTES), { cluster, source: 'webhook', receivedAt }, { code, message, stage });
      } catch (err) {
        return kafkaProblem(err, o.telemetry);
      }
      return { status, code, message };
    };
    const reading = { maxBytes: o.limits.maxBodyBytes, bodyTimeoutMs: o.limits.bodyTimeoutMs, idleTimeoutMs: o.limits.idleTimeoutMs };
    const readAll = () => readBody(stream, { ...reading, gzip: false }).then((b) => b.raw, prefixOf);

    if (req.method !== 'POST') return refuse(405, 'INPUT_INVALID', 'method', `method ${req.method} not allowed: POST an audit EventList`, await readAll());
    const mediaType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    if (mediaType !== 'application/json') {
      return refuse(415, 'INPUT_INVALID', 'content-type', `content type must be application/json, got ${JSON.stringify(req.headers['content-type'] ?? '')}`, await readAll());
    }
    const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (encoding !== 'identity' && encoding !== 'gzip') {
      return refuse(415, 'INPUT_INVALID', 'content-encoding', `content encoding must be gzip or identity, got ${JSON.stringify(encoding)}`, await readAll());
    }
    let body: Buffer;
    let raw: Buffer;
    try {
      ({ raw, body } = await readBody(stream, { ...reading, gzip: encoding === 'gzip' }));
    } catch (err) {
      if (!isKauditError(err)) throw err;
      if (err.details.problem === 'body-timeout' || err.details.problem === 'idle-timeout') {
        // Not bad input but a slow sender: nothing was acknowledged, the apiserver sends the whole
        // batch again, so a prefix is not worth a DLQ record.
        o.telemetry.emit({ event: 'request_timed_out', level: 'warn', fields: { cluster, problem: err.details.problem, reason: err.message } });
        return { status: 408, code: err.code, message: err.message };
      }
      const prefix = Buffer.isBuffer(err.details.prefix) ? err.details.prefix : Buffer.alloc(0);
      if (err.code === 'INPUT_TOO_LARGE') return refuse(413, 'INPUT_TOO_LARGE', String(err.details.problem), err.message, prefix);
      return refuse(400, 'INPUT_INVALID', String(err.details.problem), err.message, prefix);
    }
    o.metrics.bytes.inc({ cluster, source: 'webhook' }, raw.length);
    // Inflated gzip can be far bigger than what was reserved from Content-Length; account for it too.
    const extra = Math.max(0, body.length - reserved);
    if (extra > 0 && !this.#budget.tryAcquire(cluster, extra)) {
      return { status: 429, code: 'OVERLOADED', message: 'too many bytes in flight; retry later', retryAfter: RETRY_AFTER_OVERLOADED_S };
    }
    try {
      const parseBegan = performance.now();
      const checked = await o.bodyChecker.check(body, receivedAt.getTime());
      o.metrics.parseSeconds.observe((performance.now() - parseBegan) / 1000);
      if (!checked.ok) return await refuse(400, 'INPUT_INVALID', checked.problem, checked.message, raw);
      const events = checkedEvents(body, checked);
      try {
        return await withDeadline(o.pipeline.ingestChecked(events, { cluster, source: 'webhook', receivedAt }), o.produceTimeoutMs);
      } catch (err) {
        return kafkaProblem(err, o.telemetry);
      }
    } finally {
      this.#budget.release(cluster, extra);
    }
  }
}

function prefixOf(err: unknown): Buffer {
  if (isKauditError(err) && Buffer.isBuffer(err.details.prefix)) return err.details.prefix;
  throw err;
}

/**
 * An outage is a 503 with Retry-After (the apiserver retries, and later it may work). A permanent
 * refusal (ACL, record over the topic's max.message.bytes) is a 500 naming it, without Retry-After:
 * the apiserver still retries a few times, as it does any non-2xx, but nothing here will, and the
 * operator is told by the error-level publish_rejected event.
 */
function kafkaProblem(err: unknown, telemetry: Telemetry): Problem {
  if (isKauditError(err, 'KAFKA_UNAVAILABLE')) {
    telemetry.emit({ event: 'publish_failed', level: 'warn', fields: { err } });
    return { status: 503, code: err.code, message: `Kafka did not acknowledge the batch (${err.message}); retry later`, retryAfter: RETRY_AFTER_KAFKA_S };
  }
  if (isKauditError(err, 'KAFKA_REJECTED') || isKauditError(err, 'KAFKA_AUTH_FAILED') || isKauditError(err, 'KAFKA_ERROR')) {
    telemetry.emit({ event: 'publish_rejected', level: 'error', fields: { err } });
    return { status: 500, code: err.code, message: err.message };
  }
  throw err;
}

async function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new KauditError('KAFKA_UNAVAILABLE', `Kafka did not acknowledge within ${ms} ms`)), ms);
  });
  // The late outcome of `work` no longer matters to the caller; keep it from being unhandled.
  work.catch(() => undefined);
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** The common name of a client certificate the TLS layer verified against the configured CA. */
function clientCommonName(req: FastifyRequest): string | undefined {
  const socket = req.raw.socket;
  if (!(socket instanceof TLSSocket) || !socket.authorized) return undefined;
  const cn: unknown = socket.getPeerCertificate().subject?.CN;
  return typeof cn === 'string' ? cn : Array.isArray(cn) && typeof cn[0] === 'string' ? cn[0] : undefined;
}
