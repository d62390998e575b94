import type { Logger } from '@kaudit/logging';
import type { Lifecycle } from './lifecycle.js';

/** The part of `process` a service needs for signals; injected so tests can send fake signals. */
export interface SignalSource {
  once(signal: 'SIGTERM' | 'SIGINT', listener: () => void): unknown;
  exitCode?: number | string | undefined;
}

/**
 * Starts the lifecycle, then stops it on the first SIGTERM/SIGINT — or when a component reports that it can no
 * longer work (Component.failed, e.g. a ServiceFailure: a Kafka consumer stopped for good). Resolves when stopped;
 * sets a non-zero exit code when start or stop failed, or a component did, so orchestrators see the failure and
 * restart the service.
 */
export async function runUntilSignal(lifecycle: Lifecycle, signals: SignalSource, logger: Logger): Promise<void> {
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    stop = () => {
      lifecycle
        .stop()
        .catch((err: unknown) => {
          logger.error({ event: 'shutdown_failed', err }, 'shutdown_failed');
          signals.exitCode = 1;
        })
        .finally(resolve);
    };
  });
  const onSignal = (signal: string) => {
    logger.info({ event: 'shutdown_requested', signal }, 'shutdown_requested');
    stop();
  };
  signals.once('SIGTERM', () => onSignal('SIGTERM'));
  signals.once('SIGINT', () => onSignal('SIGINT'));
  const starting = lifecycle.start();
  void lifecycle.failed().then(async (err) => {
    logger.error({ event: 'service_failed', code: err.code, err }, 'service_failed');
    signals.exitCode = 1;
    // Not while components are still starting: those started after the stop would be left running.
    await starting.catch(() => undefined);
    stop();
  });
  try {
    await starting;
  } catch (err) {
    logger.error({ event: 'startup_failed', err }, 'startup_failed');
    signals.exitCode = 1;
    return;
  }
  await stopped;
}
