import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** Runs a command to its end, whatever its exit code. */
function outcome(cmd: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: REPO, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, output: `${stdout}\n${stderr}` });
    });
  });
}

describe('package-lock.json', () => {
  // `npm ci` on a fresh clone (CI, the Dockerfile, `npm start`) refuses a lockfile that lacks any
  // package the manifests need, including other platforms' optional binaries (rollup, unrs-resolver).
  // The dry run resolves the whole tree from the lockfile alone: no network, node_modules untouched.
  it('is in sync with every package.json, so `npm ci` installs from it on any platform', async () => {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const run = await outcome(npm, ['ci', '--dry-run', '--offline', '--no-audit', '--no-fund']);
    const missing = run.output.split('\n').filter((l) => /Missing:|Invalid:|EUSAGE/.test(l));
    expect(missing, 'regenerate it: npm install --package-lock-only (see README, "Dependencies")').toEqual([]);
    expect(run.code, run.output.slice(-2000)).toBe(0);
  }, 120_000);
});
