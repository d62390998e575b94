import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { KauditError } from '@kaudit/errors';
import type { Component } from './lifecycle.js';
import type { ServiceFailure } from './service-failure.js';

/** A named check; `/readyz` is 200 only when every check resolves true. */
export interface ReadinessCheck {
  name: string;
  check(): Promise<boolean>;
}

export interface HealthOptions {
  registry: Registry;
  readiness: readonly ReadinessCheck[];
  /**
   * Once it failed, `/healthz` answers 503 too (and `/readyz`): the process is alive but useless, restart it. The
   * server also passes it on as its Component.failed, so the Lifecycle running it ends the run (runUntilSignal).
   */
  failure?: Pick<ServiceFailure, 'check' | 'failed'>;
}

/** Adds `/healthz` (process alive) and `/readyz` (dependencies reachable): what probes need, and nothing more. */
export function registerProbeRoutes(app: FastifyInstance, options: Pick<HealthOptions, 'readiness' | 'failure'>): void {
  const failure = options.failure?.check;
  app.get('/healthz', async (_req, reply) => {
    if (failure !== undefined && !(await failure.check())) return reply.code(503).send({ status: 'failed' });
    return { status: 'ok' };
  });
  const readiness = failure === undefined ? options.readiness : [...options.readiness, failure];
  app.get('/readyz', async (_req, reply) => {
    const results = await Promise.all(
      readiness.map(async (r) => {
        try {
          return [r.name, await r.check()] as const;
        } catch {
          return [r.name, false] as const;
        }
      }),
    );
    const ready = results.every(([, ok]) => ok);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks: Object.fromEntries(results) });
  });
}

/** Adds the probe routes and `/metrics` (Prometheus) to an app. */
export function registerHealthRoutes(app: FastifyInstance, options: HealthOptions): void {
  registerProbeRoutes(app, options);
  app.get('/metrics', async (_req, reply) => {
    return reply.header('content-type', options.registry.contentType).send(await options.registry.metrics());
  });
}

/** The small HTTP server every consumer service runs for probes and metrics. */
export class HealthServer implements Component {
  readonly name = 'health-server';
  readonly #app: FastifyInstance;
  readonly #host: string;
  #port: number;
  readonly failed: Promise<KauditError> | undefined;

  constructor(options: HealthOptions & { host: string; port: number }) {
    this.failed = options.failure?.failed;
    this.#app = Fastify({ logger: false });
    this.#host = options.host;
    this.#port = options.port;
    registerHealthRoutes(this.#app, options);
  }

  async start(): Promise<void> {
    await this.#app.listen({ host: this.#host, port: this.#port });
    const address = this.#app.server.address();
    if (address !== null && typeof address === 'object') this.#port = address.port;
  }

  /** The bound port (useful when configured as 0). */
  get port(): number {
    return this.#port;
  }

  async stop(): Promise<void> {
    await this.#app.close();
  }
}
