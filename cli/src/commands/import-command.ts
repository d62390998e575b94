import { createReadStream, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { Option, type Command } from 'commander';
import { SingleBar } from 'cli-progress';
import type { EventTimeWindow } from '@kaudit/audit-schema';
import { loadEventWindow, loadKafkaCompression, loadKafkaSecurity } from '@kaudit/config';
import { KauditError } from '@kaudit/errors';
import { IMPORT_FORMATS, IMPORT_READ_BYTES, IMPORT_SEND_BYTES, ImportLineChecker, createIngestPipeline, defaultImportThreads, importAuditStream, type ImportFormat, type ImportSummary } from '@kaudit/ingest';
import { createKafkaClient, DEFAULT_TOPIC_SPECS, TOPICS } from '@kaudit/kafka';
import type { CliDeps } from '../build-program.js';
import { createLocalStack } from './stack-command.js';

interface ImportOptions {
  cluster: string;
  format: ImportFormat;
  maxEventBytes: string;
  progress: boolean;
}

const CLUSTER_NAME = /^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$/;

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** The end-of-import report: what landed, what did not and where it went. */
export function formatImportSummary(file: string, s: ImportSummary, seconds: number, window?: EventTimeWindow): string {
  const lines = [
    `imported ${file} (${s.mode === 'document' ? 'JSON document' : 'JSON lines'}): ${s.accepted} events accepted${s.truncated > 0 ? ` (${s.truncated} without request/response objects: over the size limit)` : ''}, ${s.rejected} rejected; ${s.records} records, ${mib(s.bytes)} in ${seconds.toFixed(1)} s (${Math.round(s.accepted / Math.max(seconds, 0.001))} events/s)`,
  ];
  const events = (n: number) => `${n} event${n === 1 ? '' : 's'}`;
  if (s.tooOld > 0) {
    lines.push(
      `${events(s.tooOld)} older than the retention (KAUDIT_RETENTION_DAYS=${window?.retentionDays ?? '?'}) were refused: ClickHouse would delete them on arrival. They are in ${TOPICS.dlq}; to keep them, raise KAUDIT_RETENTION_DAYS (the TTL of a new database) and import again.`,
    );
  }
  if (s.tooNew > 0) lines.push(`${events(s.tooNew)} more than ${window?.maxFutureSkewMs ?? '?'} ms ahead of this clock (KAUDIT_MAX_FUTURE_SKEW_MS) were refused and kept in ${TOPICS.dlq}.`);
  if (s.failedRecords > 0) {
    lines.push(`${s.failedRecords} record(s) failed and were kept in ${TOPICS.dlq}:`);
    for (const f of s.failures) lines.push(`  ${s.mode === 'document' ? 'element' : 'line'} ${f.record}: ${f.reason}`);
    if (s.failures.length < s.failedRecords) lines.push(`  … and ${s.failedRecords - s.failures.length} more`);
  }
  return lines.join('\n');
}

/**
 * `kaudit import <file|-> --cluster <name>`: streams an audit export through ingest's own validation
 * and publishing path (source=import) to the raw topic, with a progress bar on stderr.
 */
export function registerImportCommand(program: Command, deps: CliDeps): void {
  program
    .command('import')
    .description('import audit events from a file (or - for stdin): apiserver log, EventList, EKS/GKE/AKS exports')
    .argument('<file>', 'file to import, or - for stdin')
    .requiredOption('--cluster <name>', 'cluster the events belong to (key and header on the raw topic)')
    .addOption(new Option('--format <format>', 'input format; auto detects per line').choices([...IMPORT_FORMATS]).default('auto'))
    .option('--max-event-bytes <n>', 'events larger than this are kept without requestObject/responseObject', '262144')
    .option('--no-progress', 'no progress bar')
    .action(async (file: string, opts: ImportOptions) => {
      if (!CLUSTER_NAME.test(opts.cluster)) throw new KauditError('CONFIG_INVALID', `--cluster "${opts.cluster}": use lowercase letters, digits, ".", "_" and "-"`);
      // The retention ClickHouse was set up with (same variable as setup and ingest): older events are refused and reported.
      const window = loadEventWindow(deps.env, 'kaudit import');
      const maxEventBytes = Number(opts.maxEventBytes);
      if (!Number.isInteger(maxEventBytes) || maxEventBytes < 1024) throw new KauditError('CONFIG_INVALID', '--max-event-bytes must be an integer >= 1024');
      let total = 0;
      if (file !== '-') {
        try {
          total = statSync(file).size;
        } catch (cause) {
          throw new KauditError('CONFIG_INVALID', `cannot read ${file}`, { cause });
        }
      }
      // The parsing threads load while Kafka connects.
      const checker = new ImportLineChecker({ threads: defaultImportThreads() });
      checker.start();
      try {
        await importFile(deps, { file, total, window, maxEventBytes, checker, opts });
      } finally {
        await checker.stop();
      }
    });
}

/** Connects, imports `file` with a progress bar, prints the summary. */
async function importFile(
  deps: CliDeps,
  o: { file: string; total: number; window: EventTimeWindow; maxEventBytes: number; checker: ImportLineChecker; opts: ImportOptions },
): Promise<void> {
  const { file, total, window, maxEventBytes, checker, opts } = o;
  const brokers = createLocalStack(deps).endpoints().kafkaBrokers;
  const kafka = createKafkaClient({ brokers: brokers.split(','), clientId: 'kaudit-import', logger: deps.logger, ...loadKafkaSecurity(deps.env) });
  const admin = kafka.admin();
  await admin.start();
  try {
    await admin.ensureTopics(DEFAULT_TOPIC_SPECS);
  } finally {
    await admin.stop();
  }
  // A backfill writes the raw topic like ingest does, so with the same codec (KAFKA_COMPRESSION).
  const producer = kafka.producer({ compression: loadKafkaCompression(deps.env) });
  await producer.start();
  const bar = new SingleBar({
    stream: process.stderr,
    format: total > 0 ? '{bar} {percentage}% | {read} of {size} | {events} events | {rate} events/s' : '{read} read | {events} events | {rate} events/s',
    hideCursor: true,
    noTTYOutput: false,
  });
  const began = Date.now();
  if (opts.progress) bar.start(Math.max(total, 1), 0, { read: mib(0), size: mib(total), events: 0, rate: 0 });
  try {
    const pipeline = createIngestPipeline({ producer, instance: `${hostname()}/import/${process.pid}`, maxEventBytes, window, publishMaxBatchBytes: IMPORT_SEND_BYTES });
    const summary = await importAuditStream({
      input: file === '-' ? process.stdin : createReadStream(file, { highWaterMark: IMPORT_READ_BYTES }),
      format: opts.format,
      cluster: opts.cluster,
      pipeline,
      checker,
      onProgress: (p) => {
        if (!opts.progress) return;
        const seconds = Math.max((Date.now() - began) / 1000, 0.001);
        bar.update(Math.min(p.bytes, Math.max(total, 1)), { read: mib(p.bytes), events: p.accepted, rate: Math.round(p.accepted / seconds) });
      },
    });
    if (opts.progress) bar.stop();
    deps.out(formatImportSummary(file === '-' ? 'stdin' : file, summary, (Date.now() - began) / 1000, window));
    if (summary.failedRecords > 0) deps.setExitCode(1);
  } finally {
    if (opts.progress) bar.stop();
    await producer.stop();
  }
}
