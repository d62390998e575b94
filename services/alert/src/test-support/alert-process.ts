import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { KauditError } from '@kaudit/errors';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const MAIN = join(REPO, 'services', 'alert', 'src', 'main.ts');

/**
 * The alert service as ONE real process (`node --import tsx main.ts`), so SIGKILL is a crash of the
 * service itself. testkit's ServiceProcess runs the `tsx` CLI, which forks the service into a
 * grandchild: SIGKILL then only kills the wrapper and leaves the service running (an orphan), so a
 * "crash" test would pass without any crash.
 */
export class AlertProcess {
  readonly #env: Record<string, string>;
  readonly #httpPort: number;
  readonly #logFile: string;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();

  constructor(options: { env: Record<string, string>; httpPort: number; logDir: string }) {
    this.#env = options.env;
    this.#httpPort = options.httpPort;
    mkdirSync(options.logDir, { recursive: true });
    this.#logFile = join(options.logDir, 'alert.log');
  }

  async start(timeoutMs = 60_000): Promise<void> {
    const log = createWriteStream(this.#logFile, { flags: 'a' });
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
      cwd: REPO,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HTTP_HOST: '127.0.0.1', HTTP_PORT: String(this.#httpPort), ...this.#env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new KauditError('INTERNAL', `alert exited with ${child.exitCode} during start; see ${this.#logFile}`);
      try {
        const res = await fetch(`http://127.0.0.1:${this.#httpPort}/readyz`, { signal: AbortSignal.timeout(1000) });
        if (res.ok) return;
      } catch {
        /* not up yet */
      }
      await sleep(200);
    }
    throw new KauditError('INTERNAL', `alert not ready within ${timeoutMs} ms; see ${this.#logFile}`);
  }

  /** SIGKILL: no shutdown hooks, no flush, no commit — a crash. Resolves once the process is gone. */
  async kill(): Promise<void> {
    if (this.#child && this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.kill('SIGKILL');
      await this.#exited;
    }
  }

  async stop(graceMs = 20_000): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.#exited;
    clearTimeout(timer);
  }

  get logFile(): string {
    return this.#logFile;
  }
}
