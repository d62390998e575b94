import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleAuditRecord, type AuditRecord } from '@kaudit/audit-schema';
import { createClickHouse, runMigrations, type ClickHouse } from '@kaudit/clickhouse';
import { toAuditRow } from '@kaudit/sink';
import { silentLogger, testEndpoints, uniqueName } from '@kaudit/testkit';
import { buildProgram } from '../build-program.js';
import { repoPaths } from '../repo-paths.js';

const MIGRATIONS = fileURLToPath(new URL('../../../migrations/clickhouse/', import.meta.url));
const logger = silentLogger('tail-test');
let ch: ClickHouse;
let db: string;

const deng = { id: 'tke:100012347138', kind: 'human', displayName: 'Deng Wei', email: 'deng.wei@example.com', team: 'web', account: '100012347138', resolvedBy: 'directory-file' } satisfies AuditRecord['actor'];

/** Stores records as the sink does: one insert per batch, each row at its Kafka position. */
async function store(records: readonly AuditRecord[], partition: number, firstOffset: number): Promise<void> {
  await ch.insert({
    table: `${db}.audit_events`,
    format: 'JSONEachRow',
    values: records.map((r, i) => toAuditRow(r, { topic: 'kaudit.audit.enriched.v1', partition, offset: String(firstOffset + i), timestamp: String(Date.now()) })),
  });
}

function rec(id: string, minutesAgo: number, over: Partial<AuditRecord> = {}): AuditRecord {
  const us = (Date.now() - minutesAgo * 60_000) * 1000;
  return sampleAuditRecord({ auditID: id, requestReceivedUs: us, stageUs: us + 1000, ...over });
}

/** Runs `kaudit tail …` until stopped; `lines` fills as it prints. */
function startTail(...args: string[]): { lines: string[]; failed: () => unknown; stop: () => Promise<void> } {
  const lines: string[] = [];
  let error: unknown;
  const controller = new AbortController();
  const program = buildProgram({
    env: { CLICKHOUSE_URL: testEndpoints().clickhouseUrl, CLICKHOUSE_DATABASE: db, CLICKHOUSE_USER: 'default' },
    paths: repoPaths(),
    logger,
    out: (t) => lines.push(t),
    setExitCode: () => undefined,
    signal: controller.signal,
  });
  program.exitOverride();
  const done = program.parseAsync(['tail', '--interval', '150', '--settle', '0', ...args], { from: 'user' });
  done.catch((err: unknown) => {
    error = err;
  });
  return {
    lines,
    failed: () => error,
    stop: async () => {
      controller.abort();
      await done;
    },
  };
}

async function until(what: string, ok: () => boolean, ...tails: { failed: () => unknown }[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!ok()) {
    for (const t of tails) if (t.failed()) throw t.failed();
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Enough polls for anything stored to have been shown (and anything shown twice to show up). */
async function severalPolls(): Promise<void> {
  await sleep(2500);
}

beforeAll(async () => {
  ch = createClickHouse({ url: testEndpoints().clickhouseUrl });
  db = uniqueName('tail');
  await runMigrations({ client: ch, dir: MIGRATIONS, database: db, logger, vars: { retention_days: 3650 } });
  await ch.command({ query: `SYSTEM STOP MERGES ${db}.audit_events` });
  // Stored before tail starts: not shown.
  await store([rec('old-0', 5), rec('old-1', 5)], 0, 0);
});
afterAll(async () => {
  await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await ch.close();
});

describe('kaudit tail', () => {
  it('shows every row stored after it started exactly once, across partitions and out-of-order event times, then stops on abort', async () => {
    const tail = startTail('--json');
    await severalPolls();
    // 30 inserts while it polls, on two partitions (one new), event times going backwards: a time cursor would miss them.
    const expected: string[] = [];
    const next = [2, 0];
    for (let b = 0; b < 30; b++) {
      const partition = b % 2;
      const batch = Array.from({ length: 4 }, (_, k) => rec(`b${b}-${k}`, 30 - b, { stage: k === 3 ? 'RequestReceived' : 'ResponseComplete' }));
      await store(batch, partition, next[partition] as number);
      next[partition] = (next[partition] as number) + batch.length;
      // RequestReceived is the same request as its later stage: not shown.
      expected.push(...batch.filter((r) => r.stage !== 'RequestReceived').map((r) => r.auditID));
      if (b % 3 === 0) await sleep(120);
    }
    await until('every stored row', () => tail.lines.length >= expected.length, tail);
    await severalPolls();
    await tail.stop();
    const shown = tail.lines.map((l) => (JSON.parse(l) as { audit_id: string }).audit_id);
    expect([...shown].sort()).toEqual([...expected].sort());
    expect(shown).not.toContain('old-0');
  });

  it('filters by cluster, namespace, resource, verb, code, operation and actor, and prints one readable line per event', async () => {
    const tail = startTail('--cluster', 'prod-eu-1', '-n', 'web', '--resource', 'deploy', '--verb', 'delete,patch', '--actor', 'deng.wei@example.com');
    const coded = startTail('--code', '403', '--operation', 'secret-read');
    await severalPolls();
    const nginx = { apiGroup: 'apps', apiVersion: 'v1', resource: 'deployments', subresource: null, namespace: 'web', name: 'nginx', uid: null };
    await store(
      [
        rec('f-match', 1, { verb: 'delete', operation: 'delete', objectRef: nginx, actor: deng, client: { name: 'kubectl', version: 'v1.29.6' } }),
        rec('f-other-cluster', 1, { cluster: 'prod-us-1', verb: 'delete', operation: 'delete', objectRef: nginx, actor: deng }),
        rec('f-other-ns', 1, { verb: 'delete', operation: 'delete', objectRef: { ...nginx, namespace: 'shop' }, actor: deng }),
        rec('f-other-verb', 1, { verb: 'get', operation: 'read', objectRef: nginx, actor: deng }),
        rec('f-other-actor', 1, { verb: 'delete', operation: 'delete', objectRef: nginx }),
        rec('f-denied', 1, { summary: 'Alice Example was refused list secrets in web (403) in prod-eu-1', verb: 'list', operation: 'secret-read', response: { code: 403, status: 'Failure', reason: 'Forbidden', message: null }, objectRef: { ...nginx, resource: 'secrets', apiGroup: '', name: null } }),
      ],
      3,
      0,
    );
    await until('the matching rows', () => tail.lines.length >= 1 && coded.lines.length >= 1, tail, coded);
    await severalPolls();
    await tail.stop();
    await coded.stop();
    expect(tail.lines).toHaveLength(1);
    expect(tail.lines[0]).toMatch(/^\S+Z {2}prod-eu-1 {2}200 {2}Deng Wei \(tke:100012347138\) {2}delete deployments web\/nginx {2}kubectl\/v1\.29\.6$/);
    expect(coded.lines).toHaveLength(1);
    // Enrich's summary when the row has one.
    expect(coded.lines[0]).toMatch(/^\S+Z {2}403 {2}Alice Example was refused list secrets in web \(403\) in prod-eu-1 {2}\[user:alice@example\.com, kubectl\/v1\.31\.2\]$/);
  });

  it('as a process, prints what is stored and stops cleanly (exit 0, nothing on stderr) on SIGTERM and on SIGINT', async () => {
    const tsx = createRequire(import.meta.url).resolve('tsx/cli');
    const main = fileURLToPath(new URL('../main.ts', import.meta.url));
    let offset = 100;
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const child = spawn(process.execPath, [tsx, main, 'tail', '--interval', '150', '--settle', '0'], {
        env: { ...process.env, CLICKHOUSE_URL: testEndpoints().clickhouseUrl, CLICKHOUSE_DATABASE: db, CLICKHOUSE_USER: 'default', KAUDIT_LOG_LEVEL: 'debug' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      // Started (its first poll is logged at debug level to stdout) before the row is stored.
      await until('tail to start', () => stdout.includes('tail_started'));
      await store([rec(`proc-${signal}`, 1, { verb: 'delete', operation: 'delete' })], 5, offset++);
      await until('the row', () => stdout.includes('delete pods default/web-0'));
      child.kill(signal);
      expect(await exited).toBe(0);
      expect(stderr).toBe('');
    }
  });

  it('rejects a bad option with a message naming it', async () => {
    const tail = startTail('--code', 'teapot');
    await expect(tail.stop()).rejects.toThrow('--code "teapot" is not an HTTP status code');
  });
});
