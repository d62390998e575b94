import { KauditError } from '@kaudit/errors';
import type { Logger } from '@kaudit/logging';

/** Anything long-lived: clients, consumers, servers. */
export interface Component {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Settles if the component can no longer work and the process must be restarted (see ServiceFailure). */
  readonly failed?: Promise<KauditError>;
}

export interface LifecycleOptions {
  logger: Logger;
  /** Total time stop() may take before giving up on the remaining components. */
  shutdownTimeoutMs: number;
}

/**
 * Starts components in order and stops the started ones in reverse order (writers flush before the
 * clients they write with close), all within one deadline (CONVENTIONS §8).
 */
export class Lifecycle {
  readonly #components: Component[] = [];
  readonly #started: Component[] = [];
  readonly #options: LifecycleOptions;
  #stopping: Promise<void> | undefined;

  constructor(options: LifecycleOptions) {
    this.#options = options;
  }

  /** Adds components in start order (a service builder's `components` go in as one call). */
  add(...components: Component[]): this {
    this.#components.push(...components);
    return this;
  }

  /** Settles with the first failure a component reports (Component.failed); pending while none does. */
  failed(): Promise<KauditError> {
    return Promise.race(this.#components.flatMap((c) => (c.failed === undefined ? [] : [c.failed])).concat(new Promise<never>(() => undefined)));
  }

  async start(): Promise<void> {
    const log = this.#options.logger;
    for (const component of this.#components) {
      const began = Date.now();
      try {
        await component.start();
      } catch (err) {
        log.error({ event: 'component_start_failed', component: component.name, err }, 'component_start_failed');
        await this.stop();
        throw err;
      }
      this.#started.push(component);
      log.info({ event: 'component_started', component: component.name, ms: Date.now() - began }, 'component_started');
    }
  }

  /** Idempotent; concurrent calls share one shutdown. Rejects with SHUTDOWN_TIMEOUT past the deadline. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stopAll();
    return this.#stopping;
  }

  async #stopAll(): Promise<void> {
    const log = this.#options.logger;
    const deadline = Date.now() + this.#options.shutdownTimeoutMs;
    const failures: string[] = [];
    while (this.#started.length > 0) {
      const component = this.#started.pop() as Component;
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        failures.push(`${component.name} (not stopped: deadline passed)`);
        continue;
      }
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), remaining);
      });
      try {
        const outcome = await Promise.race([component.stop().then(() => 'stopped' as const), timeout]);
        if (outcome === 'timeout') failures.push(`${component.name} (timed out)`);
        else log.info({ event: 'component_stopped', component: component.name }, 'component_stopped');
      } catch (err) {
        failures.push(`${component.name} (${(err as Error).message})`);
        log.error({ event: 'component_stop_failed', component: component.name, err }, 'component_stop_failed');
      } finally {
        clearTimeout(timer);
      }
    }
    if (failures.length > 0) {
      throw new KauditError('SHUTDOWN_TIMEOUT', `shutdown incomplete: ${failures.join(', ')}`);
    }
  }
}
