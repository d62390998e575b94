export { createLogger, type Logger, type LoggerOptions } from './create-logger.js';
export { createTelemetry, type Telemetry, type TelemetryEvent } from './telemetry.js';
export { chooseLogOutput, LOG_FORMAT_CHOICES, type LogOutput, type LogOutputInputs } from './log-output.js';
export { createLinePrettifier } from './line-prettifier.js';
