import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { readEnv } from '@kaudit/config';
import { KauditError } from '@kaudit/errors';
import { serviceNodeArgs } from '@kaudit/stack';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

export interface ServiceProcessOptions {
  /** Folder under services/, e.g. `sink`. */
  service: string;
  /** Full environment of the child (nothing is inherited but PATH and HOME). */
  env: Record<string, string>;
  /** Port of the service's /readyz; the child gets it as HTTP_PORT. */
  httpPort: number;
  /** Where the child's output goes (appended), for debugging failed tests. */
  logDir: string;
}

/**
 * A kaudit service running as a real child process, so tests can SIGKILL it mid-stream and start it
 * again — the only honest way to test crash guarantees.
 */
export class ServiceProcess {
  readonly #o: ServiceProcessOptions;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();

  constructor(options: ServiceProcessOptions) {
    this.#o = options;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Where the child's stdout/stderr go (appended across restarts). */
  get logFile(): string {
    return join(this.#o.logDir, `${this.#o.service}.log`);
  }

  #running(child: ChildProcess | undefined): child is ChildProcess {
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** Starts the service and resolves when its /readyz answers 200. */
  async start(timeoutMs = 60_000): Promise<void> {
    mkdirSync(this.#o.logDir, { recursive: true });
    const log = createWriteStream(this.logFile, { flags: 'a' });
    const host = readEnv();
    // `node --import tsx`, not the tsx CLI: the CLI runs the service in a grandchild, so a SIGKILL
    // would hit only the wrapper and the service would keep running — a crash test that crashes nothing.
    const child = spawn(process.execPath, serviceNodeArgs(join(REPO, 'services', this.#o.service, 'src', 'main.ts')), {
      cwd: REPO,
      // Ingest's metrics server gets a free port too (tests never use the fixed defaults).
      env: { PATH: host.PATH ?? '', HOME: host.HOME ?? '', HTTP_HOST: '127.0.0.1', HTTP_PORT: String(this.#o.httpPort), INGEST_METRICS_PORT: '0', ...this.#o.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) {
        throw new KauditError('INTERNAL', `${this.#o.service} exited with ${child.exitCode} during start; see ${join(this.#o.logDir, `${this.#o.service}.log`)}`);
      }
      try {
        const res = await fetch(`http://127.0.0.1:${this.#o.httpPort}/readyz`, { signal: AbortSignal.timeout(1000) });
        if (res.ok) return;
      } catch {
        /* not up yet */
      }
      await sleep(200);
    }
    throw new KauditError('INTERNAL', `${this.#o.service} not ready within ${timeoutMs} ms; see ${this.#o.logDir}`);
  }

  /**
   * Waits for the service to exit by itself (it is not signalled): its exit code (null when a signal ended it),
   * or undefined when it still runs after `timeoutMs`.
   */
  async waitForExit(timeoutMs: number): Promise<number | null | undefined> {
    const child = this.#child;
    if (child === undefined) return undefined;
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([this.#exited.then(() => 'exited' as const), new Promise<'running'>((resolve) => (timer = setTimeout(() => resolve('running'), timeoutMs)))]);
    clearTimeout(timer);
    return outcome === 'exited' ? child.exitCode : undefined;
  }

  /** SIGKILL: no shutdown hooks, no flush — a crash. */
  async kill(): Promise<void> {
    if (this.#running(this.#child)) {
      this.#child.kill('SIGKILL');
      await this.#exited;
    }
  }

  /** SIGTERM and wait for a graceful exit (SIGKILL after `graceMs`). */
  async stop(graceMs = 20_000): Promise<number | null> {
    const child = this.#child;
    if (!this.#running(child)) return this.#child?.exitCode ?? null;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.#exited;
    clearTimeout(timer);
    return child.exitCode;
  }
}
