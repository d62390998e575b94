import type { Telemetry, TelemetryEvent } from '@kaudit/logging';

/** Telemetry that records emitted events, for tests that assert what a component reported. */
export function recordingTelemetry(): Telemetry & { events: TelemetryEvent[] } {
  const events: TelemetryEvent[] = [];
  const telemetry = {
    events,
    emit(event: TelemetryEvent) {
      events.push(event);
    },
    child() {
      return telemetry;
    },
  };
  return telemetry;
}
