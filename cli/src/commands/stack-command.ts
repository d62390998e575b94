import type { Command } from 'commander';
import { loadKafkaSecurity } from '@kaudit/config';
import { LocalStack, loadStackConfig } from '@kaudit/stack';
import { localTeamScopes } from './team-users.js';
import type { CliDeps } from '../build-program.js';

/** `outliveProcess`: only `stack up`, whose engines must keep running after it exits (see StackOptions). */
export function createLocalStack(deps: CliDeps, options: { outliveProcess?: boolean } = {}): LocalStack {
  const cfg = loadStackConfig(deps.env);
  return new LocalStack({
    ...options,
    root: deps.paths.state,
    kafkaPort: cfg.kafkaPort,
    kafkaControllerPort: cfg.kafkaControllerPort,
    clickhouseHttpPort: cfg.clickhouseHttpPort,
    ...(cfg.externalKafka ? { externalKafka: cfg.externalKafka, externalKafkaSecurity: loadKafkaSecurity(deps.env) } : {}),
    ...(cfg.externalClickHouse ? { externalClickHouse: cfg.externalClickHouse } : {}),
    teamScopes: () => localTeamScopes(deps),
    logger: deps.logger,
  });
}

function table(rows: Record<string, string>[]): string {
  const first = rows[0];
  if (!first) return '';
  const cols = Object.keys(first);
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(width[i] ?? 0)).join('  ').trimEnd();
  return [line(cols.map((c) => c.toUpperCase())), ...rows.map((r) => line(cols.map((c) => r[c] ?? '')))].join('\n');
}

export function registerStackCommand(program: Command, deps: CliDeps): void {
  const stack = program.command('stack').description('the local Kafka + ClickHouse engines (no Docker needed)');
  stack
    .command('up')
    .description('start the engines (reuses running ones and cached jars/launcher)')
    .action(async () => {
      const began = Date.now();
      const ep = await createLocalStack(deps, { outliveProcess: true }).up();
      deps.out(`Kafka: ${ep.kafkaBrokers}\nClickHouse: ${ep.clickhouseUrl}\nready in ${((Date.now() - began) / 1000).toFixed(1)} s`);
    });
  stack
    .command('down')
    .description('stop the local engines; leaves no process behind')
    .action(async () => {
      for (const r of await createLocalStack(deps).down()) deps.out(`${r.engine}: ${r.outcome}`);
    });
  stack
    .command('status')
    .description('engine state, versions, PIDs and memory')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const status = await createLocalStack(deps).status();
      if (opts.json) {
        deps.out(JSON.stringify(status, null, 2));
        return;
      }
      deps.out(
        table(
          status.map((s) => ({
            engine: s.engine,
            mode: s.mode,
            state: s.state,
            version: s.version ?? '',
            endpoint: s.endpoint,
            pid: s.pid === undefined ? '' : String(s.pid),
            rss: s.rssMiB === undefined ? '' : `${s.rssMiB} MiB`,
          })),
        ),
      );
      if (status.some((s) => s.state !== 'running')) deps.setExitCode(1);
    });
}
