import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { serviceNodeArgs } from '@kaudit/stack';
import type { CliDeps } from '../build-program.js';
import { createLocalStack } from './stack-command.js';
import { setupPipeline, setupTargetFromEnv } from './setup-command.js';
import { serviceLogLine } from './service-log-line.js';
import { startServices, stopInOrder, type ServicePlan } from './start-services.js';

/** The services in pipeline order; each runs as a child process with its own env (ports per DESIGN.md). */
const SERVICES = [
  { name: 'ingest', port: 8080 },
  { name: 'enrich', port: 9101 },
  { name: 'sink', port: 9102 },
  { name: 'alert', port: 9103 },
] as const;

/** Clusters `npm start` configures: `local` for your own apiserver, and the ones `kaudit demo` posts as. */
export const DEV_CLUSTERS = ['local', 'prod-eu-1', 'prod-us-1', 'staging-1'] as const;

/**
 * Writes the dev clusters file (each cluster with a fresh token, stored only as its SHA-256) and the
 * tokens themselves to dev-tokens.json (mode 0600) for `kaudit demo`. Regenerated on every start.
 */
export function writeDevClusters(stateDir: string): { file: string; tokens: Record<string, string> } {
  const tokens: Record<string, string> = {};
  const lines = ['# Written by `npm start` for local development; regenerated on every start.', 'clusters:'];
  for (const cluster of DEV_CLUSTERS) {
    const token = randomBytes(24).toString('base64url');
    tokens[cluster] = token;
    lines.push(`  ${cluster}:`, '    tokens:', `      - sha256: ${createHash('sha256').update(token).digest('hex')}`);
  }
  const file = join(stateDir, 'clusters.dev.yaml');
  writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 });
  writeFileSync(join(stateDir, 'dev-tokens.json'), `${JSON.stringify(tokens, null, 2)}\n`, { mode: 0o600 });
  return { file, tokens };
}

function pipePrefixed(child: ChildProcess, format: (line: string) => string[], out: (line: string) => void): void {
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => {
      for (const l of format(line)) out(l);
    });
  }
}

/** A readiness probe: true on a 200, false on anything else, a refused connection included (still starting). */
async function answersOk(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}

export function registerStartCommand(program: Command, deps: CliDeps): void {
  program
    .command('start')
    .description('run the whole pipeline locally: engines, topics, migrations and every service; Ctrl-C stops it all')
    .action(async () => {
      const log = deps.logger.child({ component: 'start' });
      const stack = createLocalStack(deps);
      const before = await stack.status();
      const ep = await stack.up();
      const startedEngines = before.some((s) => s.mode === 'local' && s.state !== 'running');

      // The local engine's role users (read-only query, insert-only sink): setup checks them, the sink
      // writes as the sink user and the CLI reads as the query user, as in a deployment.
      const roles = stack.clickhouseRoleCredentials();
      const target = setupTargetFromEnv(deps, { kafkaBrokers: ep.kafkaBrokers, clickhouseUrl: ep.clickhouseUrl });
      if (roles && target.roleUsers) target.roleUsers = { queryUser: roles.query.user, sinkUser: roles.sink.user, queryPassword: roles.query.password, sinkPassword: roles.sink.password };
      await setupPipeline(target, deps.logger);
      const sinkUser = roles ? { CLICKHOUSE_USER: roles.sink.user, CLICKHOUSE_PASSWORD: roles.sink.password } : {};

      mkdirSync(deps.paths.state, { recursive: true });
      const dev = writeDevClusters(deps.paths.state);
      const children: { name: string; child: ChildProcess }[] = [];
      const plan: ServicePlan[] = SERVICES.flatMap((svc, i) => {
        const entry = join(deps.paths.root, 'services', svc.name, 'src', 'main.ts');
        if (!existsSync(entry)) return [];
        return [{
          name: svc.name,
          readyUrl: `http://127.0.0.1:${svc.port}/readyz`,
          launch: () => {
            const child = spawn(process.execPath, serviceNodeArgs(entry), {
              cwd: deps.paths.root,
              env: {
                ...deps.env,
                KAFKA_BROKERS: ep.kafkaBrokers,
                CLICKHOUSE_URL: ep.clickhouseUrl,
                HTTP_HOST: '127.0.0.1',
                HTTP_PORT: String(svc.port),
                CLUSTERS_FILE: dev.file,
                // The demo company's people, so `kaudit demo` shows names rather than account IDs.
                ENRICH_DIRECTORY_FILE: deps.env.ENRICH_DIRECTORY_FILE ?? join(deps.paths.root, 'deploy', 'demo', 'directory.yaml'),
                ...(svc.name === 'sink' ? sinkUser : {}),
              },
              stdio: ['ignore', 'pipe', 'pipe'],
            });
            pipePrefixed(child, serviceLogLine(svc.name, i, deps.logOutput ?? { format: 'json', colorize: false }), deps.out);
            children.push({ name: svc.name, child });
            return { name: svc.name, exited: new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code))) };
          },
        }];
      });
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      deps.signal?.addEventListener('abort', onSignal, { once: true });
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const outcome = await startServices(plan, { probe: (url) => answersOk(url), sleep: (ms) => sleep(ms), out: deps.out, signal: stop.signal }, (running) => {
        deps.out(`\nkaudit is running: ${running.length > 0 ? running.join(', ') : 'engines only (no services yet)'}`);
        deps.out(`Kafka: ${ep.kafkaBrokers}   ClickHouse: ${ep.clickhouseUrl}`);
        if (running.includes('ingest')) deps.out(`Ingest: http://127.0.0.1:8080/v1/clusters/local/audit  token: ${dev.tokens.local ?? ''}`);
        deps.out('Press Ctrl-C to stop.\n');
      });
      if (outcome.state === 'exited') {
        deps.out(`\nkaudit: ${outcome.name} exited (${outcome.code === null ? 'killed by a signal' : `code ${outcome.code}`}) before it was ready; its lines above say why`);
        deps.setExitCode(1);
      }
      if (outcome.state === 'ready') await new Promise<void>((resolve) => (stop.signal.aborted ? resolve() : stop.signal.addEventListener('abort', () => resolve(), { once: true })));
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      deps.out('\nstopping…');
      // Pipeline order: ingest stops accepting first, then each consumer drains what is upstream of it.
      // (A terminal's Ctrl-C also reaches the children directly; this covers SIGTERM of `npm start` alone.)
      await stopInOrder(children, (name) => log.info({ event: 'service_stopped', service: name }, 'service_stopped'));
      if (startedEngines) for (const r of await stack.down()) deps.out(`${r.engine}: ${r.outcome}`);
      else deps.out('engines were already running before `start`; left running (npm run stack:down stops them)');
    });
}
