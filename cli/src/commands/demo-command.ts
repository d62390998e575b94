import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { z } from 'zod';
import { auditTraffic, toEventList, type Scenario } from '@kaudit/audit-generator';
import { KauditError } from '@kaudit/errors';
import type { CliDeps } from '../build-program.js';
import { runAndPrint, scopeFrom } from './ask-command.js';
import { execQuery, forbiddenQuery, loadQuery, whoCordonedQuery, whoDeletedQuery } from './ask-queries.js';
import { renderTable } from './ask-table.js';
import { createQueryClickHouse } from './query-clickhouse.js';
import { askActor, askHistory, renderActor, renderHistory } from './investigate-questions.js';

const SCENARIOS: Scenario[] = ['nginx-changes', 'delete-nginx', 'cordon-node', 'ksm-403-storm', 'exec-into-pod'];
const tokensSchema = z.record(z.string(), z.string().min(1));

export interface DemoOptions {
  url: string;
  events: number;
  rate: number;
  seed: number;
  clusters: string[];
  batch: number;
}

export interface PostResult {
  acknowledged: number;
  rejected: number;
  retries: number;
}

/**
 * Posts generated traffic through the real webhook, cluster by cluster in apiserver-sized batches,
 * at about `rate` events/s, retrying 429/503 as the apiserver would. Returns what was acknowledged.
 */
export async function postDemoTraffic(options: DemoOptions, tokens: Record<string, string>, progress: (done: number) => void): Promise<PostResult> {
  const result: PostResult = { acknowledged: 0, rejected: 0, retries: 0 };
  // Event times end before now (scenario bursts included), so every answer's time range covers them.
  const startMs = Date.now() - Math.ceil(options.events / options.rate) * 1000 - 120_000;
  const traffic = auditTraffic({ seed: options.seed, clusters: options.clusters, startMs, stepMs: Math.max(1, Math.round(1000 / options.rate)), scenarios: SCENARIOS, scenarioEvery: Math.max(50, Math.floor(options.events / (SCENARIOS.length + 1))) });
  const pending = new Map<string, Record<string, unknown>[]>();
  const began = Date.now();
  let generated = 0;
  const flush = async (cluster: string) => {
    const items = pending.get(cluster) ?? [];
    if (items.length === 0) return;
    pending.set(cluster, []);
    const token = tokens[cluster];
    if (!token) throw new KauditError('CONFIG_INVALID', `no dev token for cluster ${cluster} (tokens exist for: ${Object.keys(tokens).join(', ')})`);
    const body = JSON.stringify(toEventList(items));
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(`${options.url}/v1/clusters/${encodeURIComponent(cluster)}/audit`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body });
      if (res.ok) {
        const answer = (await res.json()) as { accepted?: number; rejected?: number };
        result.acknowledged += answer.accepted ?? 0;
        result.rejected += answer.rejected ?? 0;
        return;
      }
      if ((res.status === 429 || res.status === 503) && attempt < 10) {
        result.retries++;
        await sleep(Number(res.headers.get('retry-after') ?? '1') * 1000);
        continue;
      }
      throw new KauditError('INPUT_INVALID', `ingest answered ${res.status} for cluster ${cluster}: ${await res.text()}`);
    }
  };
  for (const { cluster, event } of traffic) {
    const list = pending.get(cluster) ?? [];
    list.push(event);
    pending.set(cluster, list);
    generated++;
    if (list.length >= options.batch) await flush(cluster);
    if (generated % 200 === 0) {
      progress(generated);
      // Pace to the requested rate (the demo is traffic over time, not a benchmark).
      const ahead = (generated / options.rate) * 1000 - (Date.now() - began);
      if (ahead > 0) await sleep(ahead);
    }
    if (generated >= options.events) break;
  }
  for (const cluster of pending.keys()) await flush(cluster);
  progress(generated);
  return result;
}

function intOption(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new KauditError('CONFIG_INVALID', `${name} "${value}" must be a positive integer`);
  return n;
}

export function registerDemoCommand(program: Command, deps: CliDeps): void {
  program
    .command('demo')
    .description('send realistic traffic for several clusters (with the seed scenarios) through the running pipeline, then answer the questions')
    .option('--url <url>', 'ingest base URL', 'http://127.0.0.1:8080')
    .option('--events <n>', 'events to send', '4000')
    .option('--rate <n>', 'events per second', '800')
    .option('--seed <n>', 'seed of the generator (same seed, same traffic)', '42')
    .option('--clusters <list>', 'clusters to send as (comma-separated; need dev tokens)', 'prod-eu-1,prod-us-1,staging-1')
    .option('--token-file <path>', 'cluster → token JSON written by npm start', '')
    .action(async (opts: { url: string; events: string; rate: string; seed: string; clusters: string; tokenFile: string }) => {
      const tokenFile = opts.tokenFile || join(deps.paths.state, 'dev-tokens.json');
      if (!existsSync(tokenFile)) throw new KauditError('CONFIG_INVALID', `${tokenFile} not found: start the pipeline with \`npm start\` first (it writes the dev tokens), or pass --token-file`);
      const tokens = tokensSchema.parse(JSON.parse(readFileSync(tokenFile, 'utf8')));
      const options: DemoOptions = { url: opts.url.replace(/\/$/, ''), events: intOption(opts.events, '--events'), rate: intOption(opts.rate, '--rate'), seed: intOption(opts.seed, '--seed'), clusters: opts.clusters.split(',').map((c) => c.trim()).filter(Boolean), batch: 400 };
      const began = new Date(Date.now() - Math.ceil(options.events / options.rate) * 1000 - 180_000);
      const posted = await postDemoTraffic(options, tokens, (done) => process.stderr.write(`\rsent ${done}/${options.events} events`));
      process.stderr.write('\n');
      deps.out(`ingest acknowledged ${posted.acknowledged} events (${posted.rejected} rejected, ${posted.retries} retried batches)`);

      // Wait until the sink has stored what ingest acknowledged, so the answers below are complete.
      const database = deps.env.CLICKHOUSE_DATABASE ?? 'kaudit';
      const client = createQueryClickHouse(deps, 'kaudit-demo');
      try {
        const deadline = Date.now() + 90_000;
        let stored = 0;
        while (Date.now() < deadline) {
          const rs = await client.query({ query: `SELECT count() AS n FROM ${database}.audit_events WHERE cluster IN {clusters:Array(String)} AND event_time >= {since:DateTime64(6)}`, query_params: { clusters: options.clusters, since: began.toISOString().replace('T', ' ').replace('Z', '') }, format: 'JSONEachRow' });
          stored = Number((await rs.json<{ n: string }>())[0]?.n ?? 0);
          if (stored >= posted.acknowledged) break;
          await sleep(1000);
        }
        deps.out(`stored in ClickHouse: ${stored} of ${posted.acknowledged}\n`);
        const scope = scopeFrom(deps, { since: '2h', limit: '10' }, '2h');
        deps.out('Who deleted the nginx Deployment?');
        await runAndPrint(deps, whoDeletedQuery(scope, { resource: 'deployments', name: 'nginx' }), false);
        deps.out('\nWhat happened to it before? (kaudit ask history deployment/nginx -n web)');
        deps.out(renderHistory(await askHistory(deps, scope, { resource: 'deployments', name: 'nginx', namespace: 'web' })));
        deps.out('\nWho cordoned node 172.16.18.13?');
        await runAndPrint(deps, whoCordonedQuery(scope, '172.16.18.13'), false);
        deps.out('\nWho is getting 403s?');
        await runAndPrint(deps, forbiddenQuery(scope), false);
        deps.out('\nWho exec\'d into pods?');
        await runAndPrint(deps, execQuery(scope), false);
        deps.out('\nWhich users load the apiserver most?');
        await runAndPrint(deps, loadQuery({ ...scope, limit: 5 }, 'user'), false);
        deps.out("\nDeng Wei's trail across clusters (kaudit ask actor deng.wei@example.com)");
        deps.out(renderActor(await askActor(deps, scope, 'deng.wei@example.com'), 'deng.wei@example.com'));
        // Alerts are evaluated as events arrive; give the last ones a moment to be stored.
        await sleep(3000);
        const alerts = await client.query({
          query: `SELECT rule_name, severity, cluster, count, summary FROM ${database}.alerts FINAL WHERE created_at >= {since:DateTime64(6)} ORDER BY first_seen LIMIT 20`,
          query_params: { since: began.toISOString().replace('T', ' ').replace('Z', '') },
          format: 'JSONEachRow',
        });
        deps.out('\nAlerts raised so far:');
        deps.out(renderTable(await alerts.json<Record<string, unknown>>()));
        deps.out('\nRules with a dedup window (exec, 403 storm, cordon by a person…) alert on the first occurrence (above) and fold\nrepeats into one follow-up when the window closes; see them later with:\n  kaudit sql "SELECT rule_name, follow_up, count, summary FROM kaudit.alerts FINAL ORDER BY first_seen, follow_up"');
      } finally {
        await client.close();
      }
    });
}
