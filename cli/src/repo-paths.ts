import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** Locations inside the checkout the CLI runs from. */
export interface RepoPaths {
  root: string;
  /** Local state: engines, caches, dev tokens. */
  state: string;
}

export function repoPaths(): RepoPaths {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  return { root, state: join(root, '.kaudit') };
}
