import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Component } from './lifecycle.js';

/** A named check; `/readyz` is 200 only when every check resolves true. */
export interface ReadinessCheck {
  name: string;
  check(): Promise<boolean>;
}

export interface HealthOptions {
  registry: Registry;
  readiness: readonly ReadinessCheck[];
}

/** Adds `/healthz` (process alive) and `/readyz` (dependencies reachable): what probes need, and nothing more. */
export function registerProbeRoutes(app: FastifyInstance, options: Pick<HealthOptions, 'readiness'>): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const results = await Promise.all(
      options.readiness.map(async (r) => {
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

  constructor(options: HealthOptions & { host: string; port: number }) {
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
