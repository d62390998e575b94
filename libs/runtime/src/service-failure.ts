import type { KauditError } from '@kaudit/errors';
import type { ReadinessCheck } from './health-server.js';
import type { Component } from './lifecycle.js';

/**
 * The service can no longer do its work and must be restarted — e.g. a Kafka consumer stopped for good. Once
 * failed: /healthz and /readyz answer 503 (a HealthServer given it), and runUntilSignal stops the service and
 * exits non-zero, so an orchestrator restarts it instead of keeping a process that looks alive and does nothing.
 */
export class ServiceFailure implements Component {
  readonly name = 'service-failure';
  #reason: KauditError | undefined;
  #settle: (err: KauditError) => void = () => undefined;
  /** Settles with the first failure (Lifecycle.failed() watches it); never rejects. */
  readonly failed: Promise<KauditError> = new Promise((resolve) => {
    this.#settle = resolve;
  });

  /** Records the failure; the first one is the reason, later ones change nothing. */
  fail(err: KauditError): void {
    if (this.#reason !== undefined) return;
    this.#reason = err;
    this.#settle(err);
  }

  /** Why the service failed, or undefined while it has not. */
  get reason(): KauditError | undefined {
    return this.#reason;
  }

  /** For a HealthServer's probes: false once failed. */
  readonly check: ReadinessCheck = { name: 'not-failed', check: async () => this.#reason === undefined };

  async start(): Promise<void> {
    // Nothing to start: it only records a failure.
  }

  async stop(): Promise<void> {
    // Nothing held.
  }
}
