/**
 * `npm run bench [-- [--scale N] [name …]]`: runs the benchmarks (all by default) against one pair of
 * engines started for this run, prints one table with each figure's ratio to its raw baseline
 * measured in the same run, and writes it to bench/results/<date>.json.
 *
 * Benchmarks are measurements, never pass/fail tests; goals from the issues are shown beside them.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readEnv } from '@kaudit/config';
import { createLogger } from '@kaudit/logging';
import { createEphemeralStack } from '@kaudit/stack';
import type { BenchFigure, BenchRun } from './bench-types.js';

const ALL = ['ingest', 'ingest-cold-start', 'import', 'enrich', 'sink', 'alert', 'pipeline', 'queries', 'compression'] as const;

interface Args {
  names: string[];
  scale: number;
}

function parseArgs(argv: readonly string[]): Args {
  const names: string[] = [];
  let scale = 1;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--scale') {
      scale = Number(argv[++i]);
      if (!(scale > 0)) throw new Error('--scale takes a positive number');
    } else if (arg.startsWith('-')) {
      throw new Error(`unknown option ${arg}`);
    } else names.push(arg);
  }
  return { names: names.length > 0 ? names : [...ALL], scale };
}

/** The commit checked out and whether tracked files differ from it; undefined outside a git checkout. */
function codeUnderTest(repo: string): { commit: string; uncommittedChanges: boolean } | undefined {
  try {
    const git = (...args: string[]): string => execFileSync('git', args, { cwd: repo, encoding: 'utf8' }).trim();
    return { commit: git('rev-parse', 'HEAD'), uncommittedChanges: git('status', '--porcelain', '--untracked-files=no') !== '' };
  } catch {
    return undefined;
  }
}

function fmt(n: number): string {
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(3).replace(/\.?0+$/, '') || '0';
}

function render(rows: { bench: string; figure: BenchFigure }[]): string {
  const table = rows.map(({ bench, figure: f }) => ({
    bench,
    figure: f.name,
    value: `${fmt(f.value)} ${f.unit}`,
    baseline: f.baseline === undefined ? '' : `${fmt(f.baseline)} ${f.unit}${f.baselineName ? ` (${f.baselineName})` : ''}`,
    ratio: f.baseline ? `${(f.value / f.baseline).toFixed(2)}x` : '',
    goal: f.goal ?? '',
  }));
  const cols = ['bench', 'figure', 'value', 'baseline', 'ratio', 'goal'] as const;
  const width = cols.map((c) => Math.max(c.length, ...table.map((r) => r[c].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(width[i] ?? 0)).join('  ').trimEnd();
  return [line(cols.map((c) => c.toUpperCase())), ...table.map((r) => line(cols.map((c) => r[c])))].join('\n');
}

async function main(): Promise<void> {
  const env = readEnv();
  const args = parseArgs(process.argv.slice(2));
  const logger = createLogger({ service: 'bench', level: env.KAUDIT_LOG_LEVEL ?? 'warn' });
  const here = fileURLToPath(new URL('.', import.meta.url));
  const root = join(here, '..', '.kaudit');
  const stack = await createEphemeralStack({ root, name: 'bench', logger, env });
  const ep = await stack.up();
  process.stderr.write(`engines: kafka ${ep.kafkaBrokers}, clickhouse ${ep.clickhouseUrl}\n`);
  const rows: { bench: string; figure: BenchFigure }[] = [];
  const skipped: string[] = [];
  const failed: { bench: string; error: string }[] = [];
  try {
    for (const bench of args.names) {
      const file = join(here, `${bench}.ts`);
      if (!existsSync(file)) {
        skipped.push(bench);
        continue;
      }
      process.stderr.write(`running ${bench}…\n`);
      const mod = (await import(pathToFileURL(file).href)) as { run?: BenchRun };
      if (typeof mod.run !== 'function') throw new Error(`bench/${bench}.ts does not export run()`);
      const began = Date.now();
      const local = !env.KAFKA_BROKERS && !env.CLICKHOUSE_URL;
      // A bench that fails is reported and the others still run and are written: one broken bench must not cost
      // the figures of a quarter of an hour of the others.
      try {
        const figures = await mod.run({
          kafkaBrokers: ep.kafkaBrokers,
          clickhouseUrl: ep.clickhouseUrl,
          logger,
          scale: args.scale,
          ...(stack.kafkaDataDir() !== undefined ? { kafkaDataDir: stack.kafkaDataDir() } : {}),
          enginePids: () => stack.enginePids(),
          ...(local ? { stopEngine: (engine: 'kafka' | 'clickhouse') => stack.stopEngine(engine), startEngines: async () => void (await stack.up()) } : {}),
        });
        for (const figure of figures) rows.push({ bench, figure });
        process.stderr.write(`  ${bench} done in ${((Date.now() - began) / 1000).toFixed(1)} s\n`);
      } catch (err) {
        failed.push({ bench, error: err instanceof Error ? err.message : String(err) });
        process.stderr.write(`  ${bench} FAILED after ${((Date.now() - began) / 1000).toFixed(1)} s: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
        if (local) await stack.up(); // a bench that failed while an engine was stopped leaves it stopped
      }
    }
  } finally {
    await stack.down();
  }
  const output = render(rows);
  process.stdout.write(`\n${output}\n`);
  // A run with BENCH_* knobs set (BENCH_SERVICE_ENV, BENCH_NO_WARM_UP, …) measured something other than the defaults
  // that ship; the results file says so, or an A/B run would read like a normal one.
  const overrides = Object.fromEntries(Object.entries(process.env).filter(([k, v]) => k.startsWith('BENCH_') && v !== undefined && v !== ''));
  if (Object.keys(overrides).length > 0) process.stdout.write(`\nrun with ${Object.entries(overrides).map(([k, v]) => `${k}=${v}`).join(' ')}\n`);
  if (skipped.length > 0) process.stdout.write(`\nnot available: ${skipped.join(', ')} (no bench/<name>.ts)\n`);
  for (const f of failed) process.stdout.write(`\nFAILED: ${f.bench}: ${f.error}\n`);
  // Which code was measured: an A/B of an older commit, or a run with uncommitted edits, must not read as this one's.
  const code = codeUnderTest(join(here, '..'));
  const resultsDir = join(here, 'results');
  mkdirSync(resultsDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:]/g, '-').replace(/\..+$/, '');
  const file = join(resultsDir, `${stamp}.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ at: new Date().toISOString(), scale: args.scale, machine: { cpus: (await import('node:os')).cpus().length, node: process.version }, code, overrides, results: rows.map((r) => ({ bench: r.bench, ...r.figure, ratio: r.figure.baseline ? r.figure.value / r.figure.baseline : undefined })), skipped, failed }, null, 2)}\n`,
  );
  process.stdout.write(`\nwritten to ${file}\n`);
  if (failed.length > 0) process.exitCode = 1;
}

await main();
