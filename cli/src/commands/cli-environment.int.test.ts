import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouse, type ClickHouse } from '@kaudit/clickhouse';
import { silentLogger, testEndpoints, uniqueName } from '@kaudit/testkit';
import { buildProgram } from '../build-program.js';
import { repoPaths } from '../repo-paths.js';
import { queryTarget } from './query-clickhouse.js';
import { createLocalStack } from './stack-command.js';

// Issue 17: every command honours the same environment. The test engines run on free ports, so a command that
// falls back to the default ports (9092, 8123) while only KAUDIT_KAFKA_PORT / KAUDIT_CLICKHOUSE_PORT are set
// cannot reach them and fails.
const logger = silentLogger('cli-env-test');
let ch: ClickHouse;
let db: string;

const port = (url: string) => new URL(url.includes('://') ? url : `kafka://${url}`).port;

async function kaudit(env: Record<string, string>, ...args: string[]): Promise<string> {
  const out: string[] = [];
  const program = buildProgram({ env, paths: repoPaths(), logger, out: (t) => out.push(t), setExitCode: () => undefined });
  program.exitOverride();
  await program.parseAsync(args, { from: 'user' });
  return out.join('\n');
}

beforeAll(() => {
  ch = createClickHouse({ url: testEndpoints().clickhouseUrl });
  db = uniqueName('cli_env');
});
afterAll(async () => {
  await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await ch.close();
});

describe('the CLI environment', () => {
  const portsOnly = () => ({
    KAUDIT_KAFKA_PORT: port(testEndpoints().kafkaBrokers.split(',')[0] ?? ''),
    KAUDIT_CLICKHOUSE_PORT: port(testEndpoints().clickhouseUrl),
    CLICKHOUSE_USER: 'default',
    CLICKHOUSE_DATABASE: db,
  });

  it('setup, ask and sql reach the engines on KAUDIT_KAFKA_PORT / KAUDIT_CLICKHOUSE_PORT when only the ports are set', async () => {
    const setup = await kaudit(portsOnly(), 'setup');
    expect(setup).toMatch(/migrations applied: 0001_create_audit_events/);
    expect(await kaudit(portsOnly(), 'ask', 'who-deleted', 'deploy/nginx', '--json')).toBe('[]');
    expect(JSON.parse(await kaudit(portsOnly(), 'sql', 'SELECT count() AS n FROM {db:Identifier}.audit_events', '--json'))).toEqual([{ n: '0' }]);
    expect(await kaudit(portsOnly(), 'ask', 'history', 'deploy/nginx', '--json')).toBe('[]');
  });

  it('setup and ask use KAFKA_BROKERS / CLICKHOUSE_URL over the port variables', async () => {
    const env = { ...portsOnly(), KAUDIT_KAFKA_PORT: '1', KAUDIT_CLICKHOUSE_PORT: '1', KAFKA_BROKERS: testEndpoints().kafkaBrokers, CLICKHOUSE_URL: testEndpoints().clickhouseUrl };
    expect(await kaudit(env, 'setup')).toMatch(/^topics: kaudit\.audit\.raw\.v2, kaudit\.audit\.raw\.v1.*\nmigrations applied: /);
    expect(await kaudit(env, 'ask', 'actor', 'nobody@example.com')).toBe('(nobody matching "nobody@example.com" in this range)');
  });

  it('falls back to the default local ports only when nothing is set', () => {
    const deps = (env: Record<string, string>) => ({ env, paths: repoPaths(), logger, out: () => undefined, setExitCode: () => undefined });
    expect(createLocalStack(deps({})).endpoints()).toEqual({ kafkaBrokers: '127.0.0.1:9092', clickhouseUrl: 'http://127.0.0.1:8123' });
    expect(createLocalStack(deps({ KAUDIT_KAFKA_PORT: '19092', KAUDIT_CLICKHOUSE_PORT: '18123' })).endpoints()).toEqual({ kafkaBrokers: '127.0.0.1:19092', clickhouseUrl: 'http://127.0.0.1:18123' });
    expect(queryTarget({}, () => undefined, createLocalStack(deps({ KAUDIT_CLICKHOUSE_PORT: '18123' })).endpoints().clickhouseUrl).url).toBe('http://127.0.0.1:18123');
  });

  it('--version prints the version of the kaudit package', async () => {
    let printed = '';
    const program = buildProgram({ env: {}, paths: repoPaths(), logger, out: () => undefined, setExitCode: () => undefined });
    program.exitOverride().configureOutput({ writeOut: (s) => (printed += s) });
    await expect(program.parseAsync(['--version'], { from: 'user' })).rejects.toMatchObject({ code: 'commander.version' });
    expect(printed.trim()).toMatch(/^kaudit \d+\.\d+\.\d+$/);
  });
});
