import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createKafkaClient, DLQ_HEADERS, TOPICS } from '@kaudit/kafka';
import { consumeAll, silentLogger, testEndpoints, uniqueName } from '@kaudit/testkit';
import { buildProgram } from '../build-program.js';
import { repoPaths } from '../repo-paths.js';

const logger = silentLogger('import-cli-test');
const dir = mkdtempSync(join(tmpdir(), 'kaudit-import-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DAY = 86_400_000;
/** An apiserver log-backend line (audit.k8s.io/v1 Event) at `ms`. */
function line(auditID: string, ms: number): string {
  const at = new Date(ms).toISOString();
  return JSON.stringify({ kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', auditID, stage: 'ResponseComplete', requestURI: '/api/v1/namespaces/kube-system/pods', verb: 'list', user: { username: 'system:serviceaccount:kube-system:replicaset-controller' }, requestReceivedTimestamp: at, stageTimestamp: at });
}

async function kaudit(env: Record<string, string>, ...args: string[]): Promise<{ out: string; exitCode: number }> {
  const out: string[] = [];
  let exitCode = 0;
  const program = buildProgram({ env, paths: repoPaths(), logger, out: (t) => out.push(t), setExitCode: (c) => (exitCode = c) });
  program.exitOverride();
  await program.parseAsync(['node', 'kaudit', ...args]);
  return { out: out.join('\n'), exitCode };
}

describe('kaudit import and the retention', () => {
  it('imports history inside the retention, and reports (not loses) what is older: counted, in the DLQ, exit code 1', async () => {
    const now = Date.now();
    const run = uniqueName('imp');
    const ids = { recent: `${run}-recent`, monthOld: `${run}-month`, yearOld: `${run}-year`, ancient: `${run}-1970` };
    const file = join(dir, 'audit.log');
    writeFileSync(file, [line(ids.recent, now - 60_000), line(ids.monthOld, now - 30 * DAY), line(ids.yearOld, now - 400 * DAY), line(ids.ancient, 1000)].join('\n'));
    const { out, exitCode } = await kaudit({ KAFKA_BROKERS: testEndpoints().kafkaBrokers, KAUDIT_RETENTION_DAYS: '365' }, 'import', file, '--cluster', 'history', '--no-progress');
    expect(out).toContain('2 events accepted');
    expect(out).toContain('2 events older than the retention (KAUDIT_RETENTION_DAYS=365) were refused');
    expect(exitCode).toBe(1);
    // The refused events are in the DLQ with a reason naming the rule.
    const kafka = createKafkaClient({ brokers: [testEndpoints().kafkaBrokers], clientId: uniqueName('import-cli'), logger });
    const admin = kafka.admin();
    await admin.start();
    try {
      const total = (await admin.fetchTopicOffsets(TOPICS.dlq)).reduce((n, p) => n + Number(p.high), 0);
      const dead = await consumeAll(kafka, TOPICS.dlq, total, 60_000);
      for (const id of [ids.yearOld, ids.ancient]) {
        const record = dead.find((d) => d.value?.toString().includes(id));
        expect(record, id).toBeDefined();
        expect(record?.headers[DLQ_HEADERS.reason]?.toString()).toMatch(/KAUDIT_RETENTION_DAYS=365/);
      }
    } finally {
      await admin.stop();
    }
  });

  it('stops before reading anything when KAUDIT_RETENTION_DAYS is not a retention it can honour', async () => {
    const err = await kaudit({ KAFKA_BROKERS: testEndpoints().kafkaBrokers, KAUDIT_RETENTION_DAYS: '50000' }, 'import', join(dir, 'missing.log'), '--cluster', 'history', '--no-progress').catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/KAUDIT_RETENTION_DAYS.*at most 10000 days/s);
  });
});
