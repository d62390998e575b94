import { readFile } from 'node:fs/promises';
import { watch, type FSWatcher } from 'chokidar';
import { KauditError } from '@kaudit/errors';
import type { Telemetry } from '@kaudit/logging';
import { DirectoryIndex, directoryFormat, parseDirectory } from './directory.js';

export interface DirectoryFileOptions {
  path: string;
  telemetry: Telemetry;
}

/**
 * The directory file, loaded at start and reloaded whenever it changes on disk (chokidar copes with
 * editors and ConfigMap mounts that replace the file instead of writing it). A broken edit keeps the
 * last good version in use: an operator's typo must not un-resolve every identity.
 */
export class DirectoryFile {
  readonly name = 'directory-file';
  readonly #options: DirectoryFileOptions;
  #index: DirectoryIndex = DirectoryIndex.empty();
  #watcher: FSWatcher | undefined;
  #generation = 0;

  constructor(options: DirectoryFileOptions) {
    this.#options = options;
  }

  /** The directory as last loaded successfully. */
  get index(): DirectoryIndex {
    return this.#index;
  }

  /** Bumped on every successful (re)load; lets tests and metrics see a reload happened. */
  get generation(): number {
    return this.#generation;
  }

  async start(): Promise<void> {
    // A broken file at start is a configuration error: fail loudly rather than run without it.
    await this.#load();
    this.#watcher = watch(this.#options.path, { ignoreInitial: true, awaitWriteFinish: { stabilityThreshold: 100, pollInterval: 50 } });
    const reload = () => {
      this.#load().catch((err: unknown) => {
        this.#options.telemetry.emit({ event: 'directory_reload_failed', level: 'warn', fields: { path: this.#options.path, err: (err as Error).message } });
      });
    };
    this.#watcher.on('change', reload).on('add', reload);
    await new Promise<void>((resolve) => this.#watcher?.once('ready', () => resolve()));
  }

  async stop(): Promise<void> {
    await this.#watcher?.close();
    this.#watcher = undefined;
  }

  async #load(): Promise<void> {
    const { path } = this.#options;
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (cause) {
      throw new KauditError('CONFIG_INVALID', `cannot read directory file ${path}: ${(cause as Error).message}`, { cause });
    }
    this.#index = parseDirectory(text, directoryFormat(path), path);
    this.#generation += 1;
    this.#options.telemetry.emit({ event: 'directory_loaded', fields: { path, identities: this.#index.size, generation: this.#generation } });
  }
}
