#!/usr/bin/env node
// From a checkout, runs the TypeScript CLI through tsx (no build step needed). In the image, where
// only production dependencies and compiled output exist, runs the built dist/main.js.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const src = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const dist = fileURLToPath(new URL('../dist/main.js', import.meta.url));
let tsx;
try {
  tsx = require.resolve('tsx/cli');
} catch {
  tsx = undefined;
}
const args = tsx !== undefined && existsSync(src) ? [tsx, src] : existsSync(dist) ? ['--conditions=kaudit-dist', '--enable-source-maps', dist] : undefined;
if (args === undefined) {
  console.error('kaudit: neither tsx with cli/src nor a built cli/dist/main.js is available');
  process.exit(1);
}
const result = spawnSync(process.execPath, [...args, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(result.status ?? 1);
