import type { Logger } from '@kaudit/logging';
import type { Lifecycle } from './lifecycle.js';

/** The part of `process` a service needs for signals; injected so tests can send fake signals. */
export interface SignalSource {
  once(signal: 'SIGTERM' | 'SIGINT', listener: () => void): unknown;
  exitCode?: number | string | undefined;
}

/**
 * Starts the lifecycle, then stops it on the first SIGTERM/SIGINT. Resolves when stopped; sets a
 * non-zero exit code when start or stop failed, so orchestrators see the failure.
 */
export async function runUntilSignal(lifecycle: Lifecycle, signals: SignalSource, logger: Logger): Promise<void> {
  let onSignal: (signal: string) => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    onSignal = (signal) => {
      logger.info({ event: 'shutdown_requested', signal }, 'shutdown_requested');
      lifecycle
        .stop()
        .catch((err: unknown) => {
          logger.error({ event: 'shutdown_failed', err }, 'shutdown_failed');
          signals.exitCode = 1;
        })
        .finally(resolve);
    };
  });
  signals.once('SIGTERM', () => onSignal('SIGTERM'));
  signals.once('SIGINT', () => onSignal('SIGINT'));
  try {
    await lifecycle.start();
  } catch (err) {
    logger.error({ event: 'startup_failed', err }, 'startup_failed');
    signals.exitCode = 1;
    return;
  }
  await stopped;
}
