import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KafkaSecurityOptions } from '@kaudit/kafka';
import type { Logger } from '@kaudit/logging';
import { startClickHouse, clickhousePaths, waitForClickHouse } from './clickhouse-engine.js';
import { KAFKA_VERSION, kafkaPaths, startKafka, waitForKafka } from './kafka-engine.js';
import { isPortFree, readLivePid, rssMiB, stopPid } from './process-control.js';
import { readLocalRoleCredentials, type LocalRoleCredentials, type LocalTeamScopes } from './clickhouse-access-config.js';
import { requirePortFree } from './prerequisites.js';
import { KauditError } from '@kaudit/errors';

export interface StackOptions {
  /** Folder for all local state, normally `<repo>/.kaudit`. */
  root: string;
  /** Sub-folder name of this stack's engines, so tests can run a stack next to the dev one. */
  name?: string;
  kafkaPort: number;
  kafkaControllerPort: number;
  clickhouseHttpPort: number;
  /** When set, this Kafka is used and none is started (KAFKA_BROKERS). */
  externalKafka?: string;
  /** TLS and SASL for externalKafka (KAFKA_SSL*, KAFKA_SASL_*); the local broker is plaintext. */
  externalKafkaSecurity?: KafkaSecurityOptions;
  /** When set, this ClickHouse is used and none is started (CLICKHOUSE_URL). */
  externalClickHouse?: string;
  /**
   * The directory's namespace → team map the local engine gets one team-scoped reader per team for
   * (issue 17); read only when the engine is started. Absent: no team users.
   */
  teamScopes?: () => LocalTeamScopes | undefined;
  /**
   * The engines up() starts keep running after this process exits: `kaudit stack up`, whose whole point that is.
   * Default: they stop when this process dies, however it dies (SIGKILL included) — `npm start`, the test suite,
   * the bench — so a killed run leaves no JVM or ClickHouse behind. Engines already running are left as they are.
   */
  outliveProcess?: boolean;
  logger: Logger;
}

export interface StackEndpoints {
  kafkaBrokers: string;
  clickhouseUrl: string;
}

export interface EngineStatus {
  engine: 'kafka' | 'clickhouse';
  mode: 'local' | 'external';
  state: 'running' | 'stopped' | 'unreachable';
  endpoint: string;
  version?: string;
  pid?: number;
  rssMiB?: number;
  log?: string;
}

/** Fetches `SELECT version()` over HTTP, or undefined when ClickHouse does not answer. */
async function clickhouseVersion(url: string): Promise<string | undefined> {
  try {
    const res = await fetch(`${url}/?query=${encodeURIComponent('SELECT version()')}`, { signal: AbortSignal.timeout(2000) });
    return res.ok ? (await res.text()).trim() : undefined;
  } catch {
    return undefined;
  }
}

/** The port a running local engine was started with (recorded next to its PID file). */
function recordedPort(dir: string): number | undefined {
  const file = `${dir}/port`;
  return existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) : undefined;
}

/**
 * A running engine is reused only on the port asked for: silently talking to another port, or
 * starting a second engine on the same data, would both be wrong.
 */
function requireSamePort(dir: string, wanted: number, what: string, envName: string): void {
  const port = recordedPort(dir);
  if (port !== undefined && port !== wanted) {
    throw new KauditError('STACK_PREREQUISITE', `The local ${what} is already running on port ${port}, not ${wanted}. Use ${envName}=${port}, or stop it first with \`npm run stack:down\` (with ${envName}=${port}).`);
  }
}

/**
 * The engines kaudit needs, run locally as child processes tracked by PID file, or external ones
 * named by KAFKA_BROKERS / CLICKHOUSE_URL (then nothing is started or stopped).
 */
export class LocalStack {
  readonly #o: StackOptions;
  constructor(options: StackOptions) {
    this.#o = options;
  }

  get #dir(): string {
    return join(this.#o.root, 'stack', this.#o.name ?? 'dev');
  }
  get #cache(): string {
    return join(this.#o.root, 'cache');
  }
  get #kafkaDir(): string {
    return join(this.#dir, 'kafka');
  }
  get #clickhouseDir(): string {
    return join(this.#dir, 'clickhouse');
  }

  endpoints(): StackEndpoints {
    return {
      kafkaBrokers: this.#o.externalKafka ?? `127.0.0.1:${this.#o.kafkaPort}`,
      clickhouseUrl: this.#o.externalClickHouse ?? `http://127.0.0.1:${this.#o.clickhouseHttpPort}`,
    };
  }

  /** The local broker's log.dirs (its segment files), or undefined when the Kafka is external. */
  kafkaDataDir(): string | undefined {
    return this.#o.externalKafka === undefined ? kafkaPaths({ dir: this.#kafkaDir, cacheDir: this.#cache }).data : undefined;
  }

  /**
   * The role users (read-only query, insert-only sink) of the local ClickHouse, once it has been
   * started; undefined for an external ClickHouse, whose users `kaudit setup` manages.
   */
  clickhouseRoleCredentials(): LocalRoleCredentials | undefined {
    return this.#o.externalClickHouse === undefined ? readLocalRoleCredentials(this.#clickhouseDir) : undefined;
  }

  /**
   * The PIDs of the local engines running now (the tethered Kafka's shell, the ClickHouse launcher: cpuSeconds and
   * rssMiB count their descendants, the JVM and the engine). An engine that is external or stopped has none. Read
   * from the PID files on each call, so a restarted engine's new PID is seen (the bench's CPU split per engine).
   */
  enginePids(): { kafka?: number; clickhouse?: number } {
    const kafka = this.#o.externalKafka === undefined ? readLivePid(kafkaPaths({ dir: this.#kafkaDir, cacheDir: this.#cache }).pid) : undefined;
    const clickhouse = this.#o.externalClickHouse === undefined ? readLivePid(clickhousePaths(this.#clickhouseDir).pid) : undefined;
    return { ...(kafka !== undefined ? { kafka } : {}), ...(clickhouse !== undefined ? { clickhouse } : {}) };
  }

  /** Starts whatever is local and not yet running (both engines in parallel); waits for external ones. */
  async up(): Promise<StackEndpoints> {
    const ep = this.endpoints();
    const log = this.#o.logger;
    const tasks: Promise<unknown>[] = [];
    if (this.#o.externalKafka === undefined) {
      mkdirSync(this.#kafkaDir, { recursive: true });
      const running = readLivePid(kafkaPaths({ dir: this.#kafkaDir, cacheDir: this.#cache }).pid);
      if (running !== undefined) requireSamePort(this.#kafkaDir, this.#o.kafkaPort, 'Kafka', 'KAUDIT_KAFKA_PORT');
      if (running === undefined) {
        await requirePortFree(isPortFree, this.#o.kafkaPort, 'Kafka', 'KAUDIT_KAFKA_PORT');
        await requirePortFree(isPortFree, this.#o.kafkaControllerPort, 'Kafka controller', 'KAUDIT_KAFKA_CONTROLLER_PORT');
      }
      const began = Date.now();
      tasks.push(
        startKafka({ dir: this.#kafkaDir, cacheDir: this.#cache, port: this.#o.kafkaPort, controllerPort: this.#o.kafkaControllerPort, tethered: this.#o.outliveProcess !== true, logger: log }).then((pid) => {
          writeFileSync(`${this.#kafkaDir}/port`, `${this.#o.kafkaPort}\n`);
          log.info({ event: 'kafka_ready', pid, brokers: ep.kafkaBrokers, ms: Date.now() - began, reused: running !== undefined }, 'kafka_ready');
        }),
      );
    } else {
      tasks.push(waitForKafka(ep.kafkaBrokers, log, 30_000, undefined, undefined, this.#o.externalKafkaSecurity));
    }
    if (this.#o.externalClickHouse === undefined) {
      mkdirSync(this.#clickhouseDir, { recursive: true });
      const running = readLivePid(clickhousePaths(this.#clickhouseDir).pid);
      if (running !== undefined) requireSamePort(this.#clickhouseDir, this.#o.clickhouseHttpPort, 'ClickHouse', 'KAUDIT_CLICKHOUSE_PORT');
      if (running === undefined) await requirePortFree(isPortFree, this.#o.clickhouseHttpPort, 'ClickHouse', 'KAUDIT_CLICKHOUSE_PORT');
      const began = Date.now();
      tasks.push(
        startClickHouse({ dir: this.#clickhouseDir, cacheDir: this.#cache, httpPort: this.#o.clickhouseHttpPort, tethered: this.#o.outliveProcess !== true, logger: log, roleUsers: { teams: running === undefined ? this.#o.teamScopes?.() : undefined } }).then((pid) => {
          writeFileSync(`${this.#clickhouseDir}/port`, `${this.#o.clickhouseHttpPort}\n`);
          log.info({ event: 'clickhouse_ready', pid, url: ep.clickhouseUrl, ms: Date.now() - began, reused: running !== undefined }, 'clickhouse_ready');
        }),
      );
    } else {
      tasks.push(waitForClickHouse(ep.clickhouseUrl, 30_000));
    }
    const results = await Promise.allSettled(tasks);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length > 0) {
      // Do not leave half a stack behind when the other engine failed.
      await this.down().catch(() => undefined);
      throw failed[0]?.reason;
    }
    return ep;
  }

  /** Stops the local engines by PID (Kafka first, so clients see it go before the store). */
  async down(): Promise<{ engine: string; outcome: string }[]> {
    const out: { engine: string; outcome: string }[] = [];
    const kafkaPid = kafkaPaths({ dir: this.#kafkaDir, cacheDir: this.#cache }).pid;
    const chPid = clickhousePaths(this.#clickhouseDir).pid;
    for (const [engine, pidFile, grace] of [
      ['kafka', kafkaPid, 20_000],
      ['clickhouse', chPid, 20_000],
    ] as const) {
      const pid = readLivePid(pidFile);
      out.push({ engine, outcome: pid === undefined ? 'not running' : await stopPid(pid, pidFile, grace) });
    }
    return out;
  }

  /** Stops one local engine, leaving the other running (fault-injection tests). */
  async stopEngine(engine: 'kafka' | 'clickhouse', graceMs = 20_000): Promise<void> {
    const pidFile = engine === 'kafka' ? kafkaPaths({ dir: this.#kafkaDir, cacheDir: this.#cache }).pid : clickhousePaths(this.#clickhouseDir).pid;
    const pid = readLivePid(pidFile);
    if (pid !== undefined) await stopPid(pid, pidFile, graceMs);
  }

  async status(): Promise<EngineStatus[]> {
    const ep = this.endpoints();
    const kafka: EngineStatus = { engine: 'kafka', mode: this.#o.externalKafka ? 'external' : 'local', state: 'stopped', endpoint: ep.kafkaBrokers };
    if (this.#o.externalKafka === undefined) {
      const paths = kafkaPaths({ dir: this.#kafkaDir, cacheDir: this.#cache });
      const pid = readLivePid(paths.pid);
      if (pid !== undefined) {
        Object.assign(kafka, { pid, rssMiB: rssMiB(pid), version: KAFKA_VERSION, log: paths.log });
        kafka.state = (await waitForKafka(ep.kafkaBrokers, this.#o.logger, 3000).then(() => true).catch(() => false)) ? 'running' : 'unreachable';
      }
    } else {
      kafka.state = (await waitForKafka(ep.kafkaBrokers, this.#o.logger, 3000, undefined, undefined, this.#o.externalKafkaSecurity).then(() => true).catch(() => false)) ? 'running' : 'unreachable';
    }
    const clickhouse: EngineStatus = { engine: 'clickhouse', mode: this.#o.externalClickHouse ? 'external' : 'local', state: 'stopped', endpoint: ep.clickhouseUrl };
    const local = this.#o.externalClickHouse === undefined;
    const pid = local ? readLivePid(clickhousePaths(this.#clickhouseDir).pid) : undefined;
    if (!local || pid !== undefined) {
      const version = await clickhouseVersion(ep.clickhouseUrl);
      clickhouse.state = version === undefined ? 'unreachable' : 'running';
      if (version !== undefined) clickhouse.version = version;
      if (pid !== undefined) Object.assign(clickhouse, { pid, rssMiB: rssMiB(pid), log: clickhousePaths(this.#clickhouseDir).log });
    }
    return [kafka, clickhouse];
  }
}
