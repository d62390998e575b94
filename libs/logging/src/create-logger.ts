import { pino, type Logger as PinoLogger, type DestinationStream } from 'pino';
import { createLinePrettifier } from './line-prettifier.js';
import type { LogOutput } from './log-output.js';

export type Logger = PinoLogger;

export interface LoggerOptions {
  service: string;
  level?: string;
  /** Where lines go; defaults to stdout. Tests pass a stream to read what was logged. */
  destination?: DestinationStream;
  /** JSON (the default) or readable lines; the composition root decides with chooseLogOutput. */
  output?: LogOutput;
}

/** Paths pino blanks in every line, so a stray secret in a logged object never reaches log storage. */
const REDACT_PATHS = [
  'token',
  '*.token',
  'password',
  '*.password',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'secret',
  '*.secret',
];

/** Root logger of a process: every line carries `service`; components take `logger.child({ component })`. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: options.service },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.output?.format === 'pretty' ? prettyDestination(options.output, options.service, options.destination ?? pino.destination(1)) : options.destination,
  );
}

/** Each line pino writes (JSON, already redacted) turned readable on its way to `to`. */
function prettyDestination(output: LogOutput, service: string, to: DestinationStream): DestinationStream {
  const prettify = createLinePrettifier({ colorize: output.colorize, service });
  return { write: (line: string) => to.write(`${prettify(line)}\n`) };
}
