import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEnv } from '@kaudit/config';
import { createKafkaClient } from '@kaudit/kafka';
import { sampleAuditEvent, sampleEventList } from '@kaudit/ingest';
import { freePort } from '@kaudit/stack';
import { consumeRawEvents, silentLogger, testEndpoints, uniqueName } from '@kaudit/testkit';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const STAGE = join(REPO, '.kaudit', 'tmp', `image-${process.pid}`);

/** The image's ENTRYPOINT and CMD, read from the Dockerfile itself so the test follows it. */
function dockerfileCommand(): { entrypoint: string[]; cmd: string[] } {
  const text = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
  const json = (directive: string): string[] => {
    const matches = [...text.matchAll(new RegExp(`^${directive}\\s+(\\[.*\\])\\s*$`, 'gm'))];
    const last = matches.at(-1)?.[1];
    if (last === undefined) throw new Error(`Dockerfile has no exec-form ${directive}`);
    return JSON.parse(last) as string[];
  };
  return { entrypoint: json('ENTRYPOINT'), cmd: json('CMD') };
}

/** Every file under dir (node_modules left out), relative to it. */
function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((e) => {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.name === 'node_modules') return [];
    return e.isDirectory() ? filesUnder(dir, rel) : [rel];
  });
}

describe('the production image layout (what the Dockerfile builds, without a Docker engine)', () => {
  beforeAll(async () => {
    // The same steps as the Dockerfile's build stage, on this checkout.
    await run('npx', ['tsc', '-b'], { cwd: REPO, maxBuffer: 16 * 1024 * 1024 });
    await run(process.execPath, [join(REPO, 'scripts', 'stage-image.mjs'), STAGE], { cwd: REPO });
    // --offline: the packages are in npm's cache since this checkout's own `npm ci`.
    await run('npm', ['ci', '--omit=dev', '--omit=optional', '--offline', '--no-audit', '--no-fund'], { cwd: STAGE, maxBuffer: 16 * 1024 * 1024 });
  }, 600_000);
  afterAll(() => rmSync(STAGE, { recursive: true, force: true }));

  it('holds compiled JavaScript and production dependencies only: no TypeScript sources, tests, tsx or test runner', () => {
    const files = filesUnder(STAGE);
    expect(files.filter((f) => /\.(ts|mts|cts)$/.test(f))).toEqual([]);
    expect(files.filter((f) => /\.test\.|\/src\//.test(f))).toEqual([]);
    for (const dev of ['tsx', 'typescript', 'vitest', 'esbuild', 'eslint', '@chdb/lib-linux-x64-gnu', 'kubernetes-models']) {
      expect(existsSync(join(STAGE, 'node_modules', dev)), dev).toBe(false);
    }
    for (const service of ['ingest', 'enrich', 'sink', 'alert']) expect(files).toContain(`services/${service}/dist/main.js`);
    expect(files).toContain('cli/dist/main.js');
    // Worker-thread entries are plain .mjs files loaded by URL at run time: nothing imports them, so check they ship.
    for (const entry of ['services/ingest/dist/body/check-body-worker.mjs', 'services/ingest/dist/import/check-import-worker.mjs', 'services/enrich/dist/threads/enrich-thread.mjs']) {
      expect(files).toContain(entry);
    }
    expect(files.some((f) => f.startsWith('migrations/clickhouse/'))).toBe(true);
  });

  it('runs the CLI from its compiled output (the setup Job\'s entry)', async () => {
    const { entrypoint } = dockerfileCommand();
    const [node, ...flags] = entrypoint;
    expect(node).toBe('node');
    const { stdout } = await run(process.execPath, [...flags, 'cli/dist/main.js', 'setup', '--help'], { cwd: STAGE, env: { PATH: readEnv().PATH ?? '' } });
    expect(stdout).toMatch(/create the Kafka topics/);
  }, 60_000);

  it('starts ingest with the image\'s ENTRYPOINT and CMD and acknowledges a webhook batch only once it is on Kafka', async () => {
    const { entrypoint, cmd } = dockerfileCommand();
    const [, ...flags] = entrypoint;
    expect(cmd).toEqual(['services/ingest/dist/main.js']);
    const brokers = testEndpoints().kafkaBrokers;
    const port = await freePort();
    const rawTopic = uniqueName('image_raw');
    const token = 'image-layout-token-0123456789';
    const dir = join(REPO, '.kaudit', 'tmp', 'image-layout-run');
    mkdirSync(dir, { recursive: true });
    const clusters = join(dir, 'clusters.yaml');
    writeFileSync(clusters, `clusters:\n  image-test:\n    tokens:\n      - sha256: ${createHash('sha256').update(token).digest('hex')}\n`);
    const log = createWriteStream(join(dir, 'ingest.log'));
    const child: ChildProcess = spawn(process.execPath, [...flags, ...cmd], {
      cwd: STAGE,
      env: {
        PATH: readEnv().PATH ?? '',
        NODE_ENV: 'production',
        KAFKA_BROKERS: brokers,
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: String(port),
        CLUSTERS_FILE: clusters,
        // ingest's separate metrics server (INGEST_METRICS_PORT) on a free port too: tests use no fixed ports.
        INGEST_METRICS_PORT: '0',
        INGEST_RAW_TOPIC: rawTopic,
        INGEST_DLQ_TOPIC: uniqueName('image_dlq'),
        // At least one worker thread, so the compiled body-check worker is what parses the batch.
        INGEST_PARSE_THREADS: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    try {
      const deadline = Date.now() + 60_000;
      let ready = false;
      while (!ready && Date.now() < deadline && child.exitCode === null) {
        ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
        if (!ready) await sleep(250);
      }
      expect(ready, `ingest from dist not ready; see ${join(dir, 'ingest.log')}`).toBe(true);
      const events = [sampleAuditEvent(1), sampleAuditEvent(2)];
      const res = await fetch(`http://127.0.0.1:${port}/v1/clusters/image-test/audit`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(sampleEventList(events)),
      });
      expect(res.status).toBe(200);
      const client = createKafkaClient({ brokers: [brokers], clientId: uniqueName('image-check'), logger: silentLogger() });
      // Events, not records: a raw.v2 record holds many (acknowledged means all of them are on the topic now).
      const records = await consumeRawEvents(client, rawTopic);
      expect(records.map((r) => JSON.parse(r.value?.toString() ?? '{}').auditID).sort()).toEqual(events.map((e) => e.auditID).sort());
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)));
    }
  }, 180_000);
});
