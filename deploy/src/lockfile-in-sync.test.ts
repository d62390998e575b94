import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

describe('package-lock.json', () => {
  // `npm ci` on a fresh clone (CI, the Dockerfile, `npm start`) refuses a lockfile that lacks any
  // package the manifests need, including other platforms' optional binaries (rollup, unrs-resolver).
  // The dry run resolves the whole tree from the lockfile alone: no network, node_modules untouched.
  it('is in sync with every package.json, so `npm ci` installs from it on any platform', () => {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const run = spawnSync(npm, ['ci', '--dry-run', '--offline', '--no-audit', '--no-fund'], { cwd: REPO, encoding: 'utf8', timeout: 120_000 });
    const missing = `${run.stdout}\n${run.stderr}`.split('\n').filter((l) => /Missing:|Invalid:|EUSAGE/.test(l));
    expect(missing, 'regenerate it: npm install --package-lock-only (see README, "Dependencies")').toEqual([]);
    expect(run.status).toBe(0);
  });
});
