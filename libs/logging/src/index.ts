export { createLogger, type Logger, type LoggerOptions } from './create-logger.js';
export { createTelemetry, type Telemetry, type TelemetryEvent } from './telemetry.js';
