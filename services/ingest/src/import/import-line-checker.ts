import { Piscina } from 'piscina';
import { sharedBytes } from '../body/shared-bytes.js';
import { checkImportLines, type CheckImportLinesTask, type CheckedImportLines } from './check-import-lines.js';

/**
 * Reads and validates chunks of an import file on worker threads (piscina), so `kaudit import`'s event loop
 * only moves bytes: file in, Kafka out. JSON.parse and validation are about half of an import's CPU; off the
 * loop they run while the previous chunk's send is on the wire. 0 threads checks on the event loop.
 */
export class ImportLineChecker {
  readonly #threads: number;
  #pool: Piscina<CheckImportLinesTask, CheckedImportLines> | undefined;

  constructor(options: { threads: number }) {
    this.#threads = options.threads;
  }

  /** Spawns the threads; they load in the background, the first check waits for them. */
  start(): void {
    if (this.#threads <= 0 || this.#pool) return;
    this.#pool = new Piscina<CheckImportLinesTask, CheckedImportLines>({
      filename: new URL('./check-import-worker.mjs', import.meta.url).href,
      minThreads: this.#threads,
      maxThreads: this.#threads,
      // As the webhook's body checker: the worker loads tsx itself, only the resolution conditions pass on.
      execArgv: process.execArgv.filter((arg) => arg.startsWith('--conditions=')),
    });
  }

  async stop(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.destroy();
  }

  /** The worker reads a shared copy of the chunk: the caller keeps its own and publishes ranges of it. */
  check(task: CheckImportLinesTask): Promise<CheckedImportLines> {
    if (!this.#pool) return Promise.resolve().then(() => checkImportLines(task));
    return this.#pool.run({ ...task, chunk: sharedBytes(task.chunk) });
  }
}
