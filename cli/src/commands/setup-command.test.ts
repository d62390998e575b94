import { describe, expect, it } from 'vitest';
import { ConfigError } from '@kaudit/config';
import { DEFAULT_TOPIC_SPECS } from '@kaudit/kafka';
import { silentLogger } from '@kaudit/testkit';
import type { CliDeps } from '../build-program.js';
import { setupTargetFromEnv, setupTopicSpecs } from './setup-command.js';

const deps = (env: Record<string, string>): CliDeps => ({ env, paths: { root: '/repo', state: '/repo/.kaudit' }, logger: silentLogger(), out: () => undefined, setExitCode: () => undefined });
const defaults = { kafkaBrokers: '127.0.0.1:9092', clickhouseUrl: 'http://127.0.0.1:8123' };

describe('setup topics', () => {
  it('keeps the broker defaults when nothing is set (the single-broker dev stack)', () => {
    const target = setupTargetFromEnv(deps({}), defaults);
    expect(setupTopicSpecs(target)).toEqual(DEFAULT_TOPIC_SPECS);
    expect(target.kafkaSecurity).toEqual({ ssl: undefined, sasl: undefined });
  });

  it('replicates every topic and sets min.insync.replicas next to its own settings', () => {
    const specs = setupTopicSpecs(setupTargetFromEnv(deps({ KAUDIT_TOPIC_REPLICATION_FACTOR: '3', KAUDIT_TOPIC_MIN_INSYNC_REPLICAS: '2' }), defaults));
    expect(specs.map((s) => s.replicationFactor)).toEqual(DEFAULT_TOPIC_SPECS.map(() => 3));
    for (const [i, spec] of specs.entries()) expect(spec.configs).toEqual({ ...DEFAULT_TOPIC_SPECS[i]?.configs, 'min.insync.replicas': '2' });
  });

  it('refuses a min.insync.replicas above the replication factor, and values that are not counts', () => {
    const problems = (env: Record<string, string>) => {
      try {
        setupTargetFromEnv(deps(env), defaults);
      } catch (err) {
        if (err instanceof ConfigError) return err.problems.map((p) => p.env);
        throw err;
      }
      return [];
    };
    expect(problems({ KAUDIT_TOPIC_REPLICATION_FACTOR: '2', KAUDIT_TOPIC_MIN_INSYNC_REPLICAS: '3' })).toEqual(['KAUDIT_TOPIC_MIN_INSYNC_REPLICAS']);
    expect(problems({ KAUDIT_TOPIC_MIN_INSYNC_REPLICAS: '2' })).toEqual(['KAUDIT_TOPIC_MIN_INSYNC_REPLICAS']);
    expect(problems({ KAUDIT_TOPIC_REPLICATION_FACTOR: 'three' })).toEqual(['KAUDIT_TOPIC_REPLICATION_FACTOR']);
  });
});
