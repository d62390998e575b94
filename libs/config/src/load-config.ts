import type { z } from 'zod';
import { ConfigError, type ConfigProblem } from './config-error.js';

/** Maps a dotted config path to the environment variable that sets it, e.g. `{ 'kafka.brokers': 'KAFKA_BROKERS' }`. */
export type EnvMap = Readonly<Record<string, string>>;

export interface ConfigSource {
  /** Snapshot of the environment (from `readEnv()`, or a literal in tests). */
  env: Readonly<Record<string, string | undefined>>;
  envMap: EnvMap;
  /** Values from a config file; env wins over these, and schema defaults fill the rest. */
  file?: unknown;
  /** Used in error messages, e.g. `ingest config`. */
  name?: string;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1] as string] = value;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    // Secrets and other class instances keep their own behaviour; only plain data is frozen deeply.
    const proto: unknown = Object.getPrototypeOf(value);
    if (Array.isArray(value) || proto === Object.prototype || proto === null) {
      Object.freeze(value);
      for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child);
    }
  }
  return value;
}

/**
 * Builds a service's config from schema defaults, an optional file and the environment (in that
 * order of precedence), validates it once and freezes it. On failure throws a ConfigError naming
 * every problem together with the env var that would fix it.
 */
export function loadConfig<S extends z.ZodType>(schema: S, source: ConfigSource): Readonly<z.output<S>> {
  const raw: Record<string, unknown> =
    typeof source.file === 'object' && source.file !== null ? structuredClone(source.file as Record<string, unknown>) : {};
  // Create every section the env map names, so a missing leaf is reported as `kafka.brokers`
  // (with its env var) rather than as a missing `kafka` object.
  for (const path of Object.keys(source.envMap)) {
    const parents = path.split('.').slice(0, -1);
    let node = raw;
    for (const key of parents) {
      if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
  }
  for (const [path, envName] of Object.entries(source.envMap)) {
    const value = source.env[envName];
    if (value !== undefined && value !== '') setPath(raw, path, value);
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    const envByPath = new Map(Object.entries(source.envMap));
    const problems: ConfigProblem[] = result.error.issues.map((issue) => {
      const path = issue.path.map(String).join('.') || '(root)';
      const env = envByPath.get(path);
      return env === undefined ? { path, message: issue.message } : { path, env, message: issue.message };
    });
    throw new ConfigError(problems, source.name ?? 'config');
  }
  return deepFreeze(result.data as z.output<S>);
}
