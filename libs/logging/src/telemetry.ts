import { Counter, type Registry } from 'prom-client';
import type { Logger } from './create-logger.js';

export interface TelemetryEvent {
  /** Fixed event name, e.g. `batch_dead_lettered`; becomes the log message and the counter label. */
  event: string;
  level?: 'debug' | 'info' | 'warn' | 'error';
  fields?: Record<string, unknown>;
}

export interface Telemetry {
  /** Logs the event and counts it in `kaudit_events_total{component,event}`: one call, never out of step. */
  emit(event: TelemetryEvent): void;
  child(component: string): Telemetry;
}

/**
 * Named telemetry events: a fixed message string with data in fields, counted in the same call so a
 * dashboard and the logs always agree.
 */
export function createTelemetry(logger: Logger, registry: Registry, component = 'main'): Telemetry {
  const existing = registry.getSingleMetric('kaudit_events_total');
  const counter =
    (existing as Counter<'component' | 'event'> | undefined) ??
    new Counter({
      name: 'kaudit_events_total',
      help: 'Named telemetry events by component and event name',
      labelNames: ['component', 'event'],
      registers: [registry],
    });
  const make = (log: Logger, name: string): Telemetry => ({
    emit({ event, level = 'info', fields }) {
      log[level]({ event, ...fields }, event);
      counter.inc({ component: name, event });
    },
    child(child) {
      return make(log.child({ component: child }), child);
    },
  });
  return make(logger.child({ component }), component);
}
