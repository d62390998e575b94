// Lays out what the container image holds, from a built checkout (`npx tsc -b` done): every
// workspace's package.json (npm ci needs them all to match the lockfile), the compiled dist/ of the
// packages that run in production (no tests, no TypeScript sources, no build info) and the files they
// read at run time. The Dockerfile runs it and then `npm ci --omit=dev` in the result;
// deploy/src/image-layout.int.test.ts does the same and starts a service from it.
//   node scripts/stage-image.mjs <out-dir>
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = process.argv[2];
if (!out) {
  console.error('usage: node scripts/stage-image.mjs <out-dir>');
  process.exit(2);
}

/** Workspaces whose code never runs in production: their package.json only (the lockfile names them). */
const DEV_ONLY = new Set(['libs/testkit', 'deploy']);
/** Files read at run time, relative to the repository root. */
const RUNTIME_FILES = ['migrations', 'rules', 'libs/audit-schema/avro', 'libs/stack/assets', 'cli/bin'];
const ROOT_FILES = ['package.json', 'package-lock.json', '.npmrc', 'LICENSE'];

const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const workspaces = rootManifest.workspaces.flatMap((pattern) => {
  if (!pattern.endsWith('/*')) return [pattern];
  const dir = pattern.slice(0, -2);
  return readdirSync(join(root, dir)).map((name) => `${dir}/${name}`);
}).filter((ws) => existsSync(join(root, ws, 'package.json')));

/** Compiled output a production process loads: JavaScript (and its source maps), no tests, no declarations. */
const shipped = (src) => {
  if (statSync(src).isDirectory()) return true;
  const name = src.split('/').pop() ?? '';
  if (/\.test\.(js|mjs)(\.map)?$/.test(name) || /\.d\.m?ts(\.map)?$/.test(name) || name === '.tsbuildinfo') return false;
  return /\.(js|mjs)(\.map)?$/.test(name);
};

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
for (const file of ROOT_FILES) if (existsSync(join(root, file))) cpSync(join(root, file), join(out, file));
for (const ws of workspaces) {
  mkdirSync(join(out, ws), { recursive: true });
  cpSync(join(root, ws, 'package.json'), join(out, ws, 'package.json'));
  if (DEV_ONLY.has(ws)) continue;
  const dist = join(root, ws, 'dist');
  if (!existsSync(join(dist, 'index.js')) && !existsSync(join(dist, 'main.js'))) {
    console.error(`${ws}/dist is not built: run \`npx tsc -b\` first`);
    process.exit(1);
  }
  cpSync(dist, join(out, ws, 'dist'), { recursive: true, filter: shipped });
}
for (const path of RUNTIME_FILES) cpSync(join(root, path), join(out, path), { recursive: true });
console.log(`staged ${workspaces.length} workspaces into ${relative(process.cwd(), out) || out}`);
