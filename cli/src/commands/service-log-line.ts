import { createLinePrettifier, type LogOutput } from '@kaudit/logging';

const COLORS = ['\x1b[36m', '\x1b[35m', '\x1b[33m', '\x1b[32m'] as const;
const RESET = '\x1b[0m';

/**
 * How `kaudit start` shows a line a service wrote: prefixed with the service's name, and — when the CLI's own
 * output is pretty (a terminal) — made readable, the name coloured. The services always write JSON (their stdout
 * is a pipe to this process), so the terminal decision is this process's alone. A pretty line may span several
 * (an error's stack); each gets the prefix.
 */
export function serviceLogLine(name: string, index: number, output: LogOutput): (line: string) => string[] {
  const colour = output.colorize ? (COLORS[index % COLORS.length] ?? '') : '';
  const prefix = `${colour}${name.padEnd(6)}${colour ? RESET : ''} |`;
  const prettify = output.format === 'pretty' ? createLinePrettifier({ colorize: output.colorize, service: name }) : (line: string) => line;
  return (line) => prettify(line).split('\n').map((l) => `${prefix} ${l}`);
}
