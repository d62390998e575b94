import { prettyFactory } from 'pino-pretty';

/**
 * A function from one pino JSON line to one readable line (`12:00:01.234 INFO: batch_accepted {…fields}`);
 * a line that is not pino JSON (a stack trace, a tool's own output) comes back unchanged. `service` is left out
 * when it is `options.service` (the process's own name, or the one `npm start` prefixes the line with) and
 * shown otherwise (`service_stopped` names the stopped one). The `event` field is the message by convention, so
 * it is shown only when it says something else.
 */
export function createLinePrettifier(options: { colorize: boolean; service?: string }): (line: string) => string {
  const pretty = prettyFactory({
    colorize: options.colorize,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,event',
    singleLine: true,
    messageFormat: (log, messageKey) => {
      const msg = String(log[messageKey] ?? '');
      return typeof log.event === 'string' && log.event !== msg ? `${msg} (${log.event})` : msg;
    },
  });
  return (line) => {
    const text = line.trim();
    if (!text.startsWith('{')) return line;
    let log: unknown;
    try {
      log = JSON.parse(text);
    } catch {
      return line;
    }
    if (typeof log !== 'object' || log === null || Array.isArray(log)) return line;
    const { service, ...rest } = log as Record<string, unknown>;
    return pretty(service === options.service ? rest : { service, ...rest }).replace(/\n$/, '');
  };
}
