import { KauditError } from '@kaudit/errors';

/** How log lines are written: JSON for machines, or one readable line each for a person at a terminal. */
export interface LogOutput {
  format: 'json' | 'pretty';
  /** ANSI colours in pretty lines; never in JSON. */
  colorize: boolean;
}

export const LOG_FORMAT_CHOICES = ['auto', 'json', 'pretty'] as const;

export interface LogOutputInputs {
  /** Whether the process's stdout is a terminal; the composition root reads it and passes it in. */
  isTTY: boolean;
  /** KAUDIT_LOG_FORMAT: `auto` (default), `json` or `pretty`. */
  requested?: string | undefined;
  /** NO_COLOR (https://no-color.org): any non-empty value turns colours off. */
  noColor?: string | undefined;
}

/**
 * Pretty and coloured on a terminal, JSON everywhere else (a pipe, a file, a container's log collector, which
 * parse the JSON); KAUDIT_LOG_FORMAT forces either. Colours only on a terminal and without NO_COLOR.
 */
export function chooseLogOutput(inputs: LogOutputInputs): LogOutput {
  const requested = inputs.requested === undefined || inputs.requested === '' ? 'auto' : inputs.requested;
  if (!(LOG_FORMAT_CHOICES as readonly string[]).includes(requested)) {
    throw new KauditError('CONFIG_INVALID', `KAUDIT_LOG_FORMAT "${requested}" must be one of ${LOG_FORMAT_CHOICES.join(', ')}`);
  }
  const format = requested === 'auto' ? (inputs.isTTY ? 'pretty' : 'json') : (requested as LogOutput['format']);
  return { format, colorize: format === 'pretty' && inputs.isTTY && !inputs.noColor };
}
