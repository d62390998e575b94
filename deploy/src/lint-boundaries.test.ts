import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SERVICES = ['ingest', 'enrich', 'sink', 'alert'] as const;

/**
 * The repository's own eslint.config.js on planted files (text only, nothing written): the boundaries of
 * CONVENTIONS §1, §9 and §13 hold because lint fails on the first import that crosses one (issue 16).
 */
// The first lint loads the TypeScript resolver and parser: seconds on a busy 2-core machine.
describe('lint boundaries', { timeout: 60_000 }, () => {
  let eslint: ESLint;
  beforeAll(() => {
    eslint = new ESLint({ cwd: REPO });
  });

  /** Rule ids of the errors eslint reports for `code` as if it were the file at `path` (relative to the repo). */
  async function errors(path: string, code: string): Promise<string[]> {
    const [result] = await eslint.lintText(code, { filePath: `${REPO}${path}` });
    return (result?.messages ?? []).filter((m) => m.severity === 2).map((m) => m.ruleId ?? `fatal: ${m.message}`);
  }

  it.each([
    ['a service by package name', `import { buildSink } from '@kaudit/sink';\nexport const b = buildSink;\n`],
    ['a service type by package name', `import type { SinkConfig } from '@kaudit/sink';\nexport type C = SinkConfig;\n`],
    ['the CLI by package name', `import { buildProgram } from 'kaudit';\nexport const p = buildProgram;\n`],
    ['a service by path', `import { buildSink } from '../../../services/sink/src/build-sink.js';\nexport const b = buildSink;\n`],
    ['the CLI by path', `import { buildProgram } from '../../../cli/src/build-program.js';\nexport const p = buildProgram;\n`],
  ])('a lib importing %s fails lint', async (_what, code) => {
    expect(await errors('libs/config/src/planted.ts', code)).toContain('import-x/no-restricted-paths');
  });

  it('a lib importing another lib passes (the rule is not a blanket ban)', async () => {
    expect(await errors('libs/config/src/planted.ts', `import { KauditError } from '@kaudit/errors';\nexport const E = KauditError;\n`)).toEqual([]);
  });

  it('bench/ keeps the kafkajs boundary: only bench/raw-kafkajs.ts may import kafkajs', async () => {
    const code = `import { Kafka } from 'kafkajs';\nexport const K = Kafka;\n`;
    expect(await errors('bench/planted.ts', code)).toContain('no-restricted-imports');
    expect(await errors('bench/raw-kafkajs.ts', readFileSync(`${REPO}bench/raw-kafkajs.ts`, 'utf8'))).toEqual([]);
  });

  it.each(SERVICES)('%s main.ts imports its build<Service> and passes lint', async (service) => {
    const path = `services/${service}/src/main.ts`;
    const code = readFileSync(`${REPO}${path}`, 'utf8');
    expect(code).toMatch(new RegExp(`import \\{[^}]*\\bbuild${service[0]?.toUpperCase()}${service.slice(1)}\\b[^}]*\\} from '\\./build-${service}\\.js';`));
    expect(await errors(path, code)).toEqual([]);
  });

  it.each([
    ['one of its parts', `import { BatchSink } from './batch-sink.js';\nexport const B = BatchSink;\n`],
    ['a Kafka client', `import { createKafkaClient } from '@kaudit/kafka';\nexport const c = createKafkaClient;\n`],
    ['a ClickHouse client', `import { createClickHouse } from '@kaudit/clickhouse';\nexport const c = createClickHouse;\n`],
    ['the health server', `import { HealthServer } from '@kaudit/runtime';\nexport const H = HealthServer;\n`],
  ])('a main.ts that wires %s itself fails lint', async (_what, code) => {
    expect(await errors('services/sink/src/main.ts', code)).toContain('no-restricted-imports');
  });
});
