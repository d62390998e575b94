// Runs before `npm start`, `npm test` and the stack scripts on a fresh clone: installs exactly the
// locked dependencies when they are missing or older than the lockfile. Node built-ins only, since
// nothing else exists yet at this point.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const marker = join(root, 'node_modules', '.package-lock.json');
const lock = join(root, 'package-lock.json');
const stale = !existsSync(marker) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(marker).mtimeMs);
if (stale) {
  console.log('[kaudit] installing dependencies (npm install, pinned by package-lock.json)…');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  // `npm install`, not `npm ci`: npm 11 leaves rollup's per-platform optional packages out of the
  // lockfile and `npm ci` then refuses it as out of sync. With a lockfile present, `npm install`
  // still installs exactly the locked versions.
  execFileSync(npm, ['install', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
}
