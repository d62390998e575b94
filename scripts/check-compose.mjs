// `docker compose config` (or Debian's docker-compose) on docker-compose.yml: the real Compose parser,
// beyond the schema check in deploy/src/compose-file.test.ts. It runs where a Compose CLI is
// installed and says plainly when none is: exit 0 with "NOT CHECKED", never a silent pass.
// `.ci/run` installs Debian's docker-compose first, so CI always checks. Node built-ins only.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const file = join(root, 'docker-compose.yml');
const candidates = [
  ['docker', ['compose']],
  ['docker-compose', []],
];
for (const [cmd, prefix] of candidates) {
  const probe = spawnSync(cmd, [...prefix, 'version'], { encoding: 'utf8' });
  if (probe.status !== 0) continue;
  const version = (probe.stdout.split('\n')[0] ?? '').trim();
  const run = spawnSync(cmd, [...prefix, '-f', file, 'config', '-q'], { encoding: 'utf8', cwd: root });
  if (run.status !== 0) {
    console.error(`compose config: FAILED with ${cmd} ${prefix.join(' ')} (${version}):\n${run.stderr}${run.stdout}`);
    process.exit(1);
  }
  console.log(`compose config: checked, docker-compose.yml is valid (${cmd} ${prefix.join(' ')}: ${version})`);
  process.exit(0);
}
console.log('compose config: NOT CHECKED — neither `docker compose` nor `docker-compose` is installed here');
