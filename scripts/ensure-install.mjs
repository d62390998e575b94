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
  console.log('[kaudit] installing dependencies (npm ci, exactly as pinned by package-lock.json)…');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  // `npm ci`: installs exactly the lockfile or refuses it when it is out of sync with a package.json
  // (deploy/src/lockfile-in-sync.test.ts keeps it in sync, every platform's optional binaries included).
  execFileSync(npm, ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
}
