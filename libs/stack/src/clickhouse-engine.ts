import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { KauditError } from '@kaudit/errors';
import type { Logger } from '@kaudit/logging';
import { isAlive, readLivePid, spawnDetached, tailFile } from './process-control.js';
import { requireClickHousePlatform, requireCompiler, which } from './prerequisites.js';
import { ensureLocalRoleCredentials, writeLocalAccessConfig, type LocalTeamScopes } from './clickhouse-access-config.js';

const run = promisify(execFile);
const LAUNCHER_SOURCE = fileURLToPath(new URL('../assets/chdb-launcher.c', import.meta.url));

export interface ClickHouseEngineOptions {
  dir: string;
  cacheDir: string;
  httpPort: number;
  /**
   * Also serve the native protocol here (clickhouse-local: `SYSTEM START LISTEN TCP`), which a
   * Distributed table on another engine uses to reach this one. Off by default.
   */
  tcpPort?: number;
  /** More server configuration (XML elements inside <clickhouse>), e.g. `remote_servers` for a Distributed test. */
  serverConfigXml?: string;
  logger: Logger;
  /** The database and names the local role users are granted on (default kaudit / kaudit_query / kaudit_sink). */
  roleUsers?: { database?: string; queryUser?: string; sinkUser?: string; teams?: LocalTeamScopes | undefined };
  /** The engine stops when this process dies, however it dies (spawnDetached's tether); otherwise it outlives it. */
  tethered?: boolean;
}

export interface ClickHousePaths {
  data: string;
  log: string;
  pid: string;
}

export function clickhousePaths(dir: string): ClickHousePaths {
  return { data: join(dir, 'data'), log: join(dir, 'clickhouse.log'), pid: join(dir, 'clickhouse.pid') };
}

/** Location of libchdb.so from the pinned optional npm dependency, with a clear error when absent. */
export function findLibChdb(): string {
  requireClickHousePlatform();
  const require = createRequire(import.meta.url);
  try {
    return join(dirname(require.resolve('@chdb/lib-linux-x64-gnu/package.json')), 'libchdb.so');
  } catch (cause) {
    throw new KauditError('STACK_PREREQUISITE', 'The ClickHouse engine package @chdb/lib-linux-x64-gnu is not installed (it is optional and only installs on linux-x64 glibc). Run `npm install`, or set CLICKHOUSE_URL to a ClickHouse you run.', { cause });
  }
}

/**
 * Compiles the launcher into the cache the first time, named by the hash of its source so an edit
 * rebuilds it and an unchanged source is never recompiled.
 */
export async function ensureLauncher(cacheDir: string, logger: Logger): Promise<string> {
  const source = readFileSync(LAUNCHER_SOURCE);
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 12);
  const binary = join(cacheDir, 'bin', `chdb-launcher-${hash}`);
  if (existsSync(binary)) return binary;
  const cc = requireCompiler();
  mkdirSync(dirname(binary), { recursive: true });
  logger.info({ event: 'clickhouse_launcher_building' }, 'building the ClickHouse launcher (first run only)');
  try {
    await run(cc, ['-O2', '-o', binary, LAUNCHER_SOURCE, '-ldl']);
  } catch (err) {
    throw new KauditError('STACK_PREREQUISITE', `Compiling the ClickHouse launcher failed: ${(err as { stderr?: string }).stderr ?? String(err)}`, { cause: err });
  }
  return binary;
}

/** Waits for `GET /ping` while checking the process is still alive (startup SQL errors only reach its log). */
export async function waitForClickHouse(url: string, timeoutMs: number, pid?: number, log?: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (pid !== undefined && !isAlive(pid)) {
      throw new KauditError('STACK_START_FAILED', `ClickHouse exited during start-up. Last log lines (${log ?? ''}):\n${log ? tailFile(log) : ''}`);
    }
    try {
      const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      /* not listening yet */
    }
    await sleep(150);
  }
  throw new KauditError('STACK_START_FAILED', `ClickHouse at ${url} did not answer /ping within ${timeoutMs} ms${log ? `. Last log lines (${log}):\n${tailFile(log)}` : ''}`);
}

/**
 * Starts the real ClickHouse engine detached: `clickhouse server` when a clickhouse binary is on
 * PATH, otherwise clickhouse-local from libchdb.so serving HTTP through our launcher. Returns its PID.
 */
export async function startClickHouse(options: ClickHouseEngineOptions): Promise<number> {
  const paths = clickhousePaths(options.dir);
  const running = readLivePid(paths.pid);
  if (running !== undefined) return running;
  mkdirSync(paths.data, { recursive: true });
  const roles = options.roleUsers ?? {};
  const credentials = ensureLocalRoleCredentials(options.dir, { database: roles.database ?? 'kaudit', queryUser: roles.queryUser ?? 'kaudit_query', sinkUser: roles.sinkUser ?? 'kaudit_sink' }, roles.teams);
  const url = `http://127.0.0.1:${options.httpPort}`;
  const server = which('clickhouse');
  let pid: number;
  if (server !== undefined) {
    if (options.serverConfigXml !== undefined) throw new KauditError('STACK_PREREQUISITE', 'extra server configuration is only supported for the bundled engine (clickhouse-local); a clickhouse binary is on PATH');
    // A full server build: no launcher needed. Only HTTP is opened; other protocols stay off.
    pid = spawnDetached({
      command: server,
      args: ['server', '--', `--path=${paths.data}/`, `--http_port=${options.httpPort}`, `--tcp_port=${options.tcpPort ?? 0}`, '--listen_host=127.0.0.1', `--logger.log=${paths.log}`, '--logger.level=warning'],
      logFile: paths.log,
      pidFile: paths.pid,
      cwd: options.dir,
      ...(options.tethered === true ? { tether: 'wrap' as const } : {}),
    });
  } else {
    const lib = findLibChdb();
    const launcher = await ensureLauncher(options.cacheDir, options.logger);
    const configFile = writeLocalAccessConfig(options.dir, credentials, options.serverConfigXml);
    // clickhouse-local opens listeners only when asked; HTTPS is not among those it can open (TCP and HTTP only).
    const listen = options.tcpPort !== undefined ? 'SYSTEM START LISTEN HTTP; SYSTEM START LISTEN TCP;' : 'SYSTEM START LISTEN HTTP;';
    pid = spawnDetached({
      command: launcher,
      args: [
        // Tethered, the launcher itself watches its stdin and shuts ClickHouse down cleanly at EOF.
        ...(options.tethered === true ? ['--exit-on-stdin-eof'] : []),
        lib,
        // users.xml with the role users (read-only query, insert-only sink) beside the password-less default.
        `--config-file=${configFile}`,
        `--path=${paths.data}`,
        `--http_port=${options.httpPort}`,
        ...(options.tcpPort !== undefined ? [`--tcp_port=${options.tcpPort}`] : []),
        '--listen_host=127.0.0.1',
        '--query',
        `${listen} SELECT count() FROM file(stdin, 'LineAsString') FORMAT Null`,
      ],
      logFile: paths.log,
      pidFile: paths.pid,
      cwd: options.dir,
      ...(options.tethered === true ? { tether: 'stdin' as const } : {}),
    });
  }
  await waitForClickHouse(url, 60_000, pid, paths.log);
  return pid;
}
