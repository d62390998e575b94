import { KauditError } from '@kaudit/errors';

export interface ConfigProblem {
  /** Dotted path in the config object, e.g. `kafka.brokers`. */
  path: string;
  /** Environment variable that sets it, when there is one. */
  env?: string;
  message: string;
}

/** Thrown by `loadConfig` when validation fails; lists every problem at once, not just the first. */
export class ConfigError extends KauditError {
  readonly problems: readonly ConfigProblem[];
  constructor(problems: ConfigProblem[], source: string) {
    const lines = problems.map((p) => `  - ${p.path}${p.env ? ` (${p.env})` : ''}: ${p.message}`);
    super('CONFIG_INVALID', `Invalid configuration from ${source} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines.join('\n')}`, {
      details: { problems },
    });
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
