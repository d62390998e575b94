import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient } from '@kaudit/kafka';
import { sampleAuditEvent, sampleEventList } from '@kaudit/ingest';
import { freePort } from '@kaudit/stack';
import { consumeRawEvents, silentLogger, testEndpoints, uniqueName } from '@kaudit/testkit';

// The real image, built by the real `docker build` of the repository's Dockerfile
// (scripts/build-image.mjs, which makes the base image locally where no registry is reachable), then
// inspected and run. `npm run image:check` runs this file (vitest.image.config.ts); it is not part of
// `npm test`: it needs a Docker engine and takes minutes. Where there is no engine it FAILS, saying so.

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const TAG = `kaudit:image-check-${process.pid}`;
const WORK = join(REPO, '.kaudit', 'tmp', `image-check-${process.pid}`);

/** `docker <args>`: stdout, or an error with docker's stderr. */
async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run('docker', args, { maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/** A command in a throw-away container of the image, as the image's user unless the entrypoint is swapped. */
async function inImage(image: string, entrypoint: string, ...args: string[]): Promise<string> {
  return docker('run', '--rm', '--network', 'none', '--entrypoint', entrypoint, image, ...args);
}

describe('the image the Dockerfile builds (real docker build, real docker run)', () => {
  // The build is a test of its own, not a beforeAll: a failed hook would leave the checks "skipped".
  // Each check fails, naming why, when there is no image to check.
  let built: string | undefined;
  const image = (): string => {
    if (built === undefined) throw new Error('the image was NOT built (see the first test), so this is NOT checked');
    return built;
  };
  beforeAll(() => mkdirSync(WORK, { recursive: true }));
  afterAll(async () => {
    await docker('image', 'rm', '-f', TAG).catch(() => undefined);
    rmSync(WORK, { recursive: true, force: true });
  });

  it('builds with the real `docker build` of the Dockerfile (the base image made locally where no registry is reachable)', async () => {
    const logFile = join(WORK, 'build.log');
    const log = createWriteStream(logFile);
    const child = spawn(process.execPath, [join(REPO, 'scripts', 'build-image.mjs'), '--tag', TAG], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(log);
    child.stderr.pipe(log);
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    await new Promise((resolve) => log.end(resolve));
    const tail = readFileSync(logFile, 'utf8').split('\n').slice(-40).join('\n');
    expect(code, `the image was NOT built (scripts/build-image.mjs exit ${code}); last lines of ${logFile}:\n${tail}`).toBe(0);
    built = TAG;
  }, 3_600_000);

  it('runs the CLI from compiled output: `--help` lists its commands', async () => {
    const help = await docker('run', '--rm', '--network', 'none', image(), 'cli/dist/main.js', '--help');
    expect(help).toMatch(/Usage: kaudit/);
    for (const command of ['setup', 'ask', 'import', 'rules']) expect(help).toMatch(new RegExp(`\\n\\s+${command}\\b`));
    const setup = await docker('run', '--rm', '--network', 'none', image(), 'cli/dist/main.js', 'setup', '--help');
    expect(setup).toMatch(/create the Kafka topics/);
  }, 120_000);

  it('runs as a non-root user, and every file under /app belongs to root and is not writable by it', async () => {
    const config = JSON.parse(await docker('image', 'inspect', '--format', '{{json .Config}}', image())) as { User?: string; Entrypoint?: string[]; Cmd?: string[] };
    expect(config.User).toBe('node');
    expect((await inImage(image(), 'id', '-u')).trim()).not.toBe('0');
    expect((await inImage(image(), 'id', '-un')).trim()).toBe('node');
    expect(await inImage(image(), 'find', '/app', '(', '!', '-user', '0', '-o', '!', '-group', '0', ')', '-print')).toBe('');
    // Writable by the process user would let a compromised service rewrite its own code.
    expect(await inImage(image(), 'find', '/app', '-writable', '-print')).toBe('');
  }, 120_000);

  it('holds no TypeScript sources, tests or dev dependencies (tsx, typescript, vitest, esbuild, eslint, chdb, kubernetes-models)', async () => {
    // Every node_modules (workspaces have their own for conflicting versions) is dependencies', not ours.
    const ownFiles = await inImage(image(), 'find', '/app', '-name', 'node_modules', '-prune', '-o', '-type', 'f', '-print');
    const files = ownFiles.split('\n').filter((f) => f !== '');
    expect(files).toContain('/app/services/ingest/dist/main.js');
    expect(files).toContain('/app/cli/dist/main.js');
    expect(files.filter((f) => /\.(ts|mts|cts)$/.test(f))).toEqual([]);
    expect(files.filter((f) => /\.test\.|\/src\//.test(f))).toEqual([]);
    // Package directories (npm leaves the empty @chdb scope directory behind when it omits the optional engine).
    const devDeps = ['tsx', 'typescript', 'vitest', 'esbuild', 'eslint', '@chdb/*', 'kubernetes-models'];
    const found = await inImage(image(), 'find', '/app', '(', ...devDeps.flatMap((d, i) => [...(i > 0 ? ['-o'] : []), '-path', `*/node_modules/${d}`]), ')', '-print');
    expect(found).toBe('');
    // The check can see a package: a production dependency is there.
    expect(await inImage(image(), 'find', '/app/node_modules', '-maxdepth', '1', '-name', 'kafkajs', '-print')).toBe('/app/node_modules/kafkajs\n');
  }, 120_000);

  it('starts ingest from the image\'s own ENTRYPOINT and CMD: /healthz and /readyz answer, a webhook batch lands on Kafka', async () => {
    const brokers = testEndpoints().kafkaBrokers;
    const [port, metricsPort] = [await freePort(), await freePort()];
    const rawTopic = uniqueName('image_check_raw');
    const token = 'image-check-token-0123456789';
    const clustersDir = join(WORK, 'clusters');
    mkdirSync(clustersDir, { recursive: true });
    writeFileSync(join(clustersDir, 'clusters.yaml'), `clusters:\n  image-test:\n    tokens:\n      - sha256: ${createHash('sha256').update(token).digest('hex')}\n`, { mode: 0o644 });
    const name = uniqueName('kaudit-image-check');
    // Host network with loopback-only listeners: the test stack's Kafka is on 127.0.0.1 too.
    await docker('run', '-d', '--name', name, '--network', 'host',
      '-v', `${clustersDir}:/etc/kaudit:ro`,
      '-e', `KAFKA_BROKERS=${brokers}`, '-e', 'HTTP_HOST=127.0.0.1', '-e', `HTTP_PORT=${port}`,
      '-e', 'INGEST_METRICS_HOST=127.0.0.1', '-e', `INGEST_METRICS_PORT=${metricsPort}`,
      '-e', 'CLUSTERS_FILE=/etc/kaudit/clusters.yaml', '-e', `INGEST_RAW_TOPIC=${rawTopic}`, '-e', `INGEST_DLQ_TOPIC=${uniqueName('image_check_dlq')}`,
      '-e', 'INGEST_PARSE_THREADS=1',
      image());
    try {
      const deadline = Date.now() + 90_000;
      let ready = false;
      while (!ready && Date.now() < deadline) {
        ready = await fetch(`http://127.0.0.1:${metricsPort}/readyz`).then((r) => r.ok, () => false);
        if (!ready) await sleep(500);
      }
      const logs = async (): Promise<string> => docker('logs', name).catch((err: unknown) => String(err));
      expect(ready, `ingest in the image not ready; its log:\n${await logs()}`).toBe(true);
      const health = await fetch(`http://127.0.0.1:${metricsPort}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok' });
      // The service's own processes (not a new `docker exec`), by numeric uid: none is root.
      const top = await docker('top', name, '-o', 'pid,uid,args');
      expect(top).toMatch(/node --conditions=kaudit-dist .*services\/ingest\/dist\/main\.js/);
      const uids = top.split('\n').slice(1).filter((l) => l.trim() !== '').map((l) => l.trim().split(/\s+/)[1]);
      expect(uids.length).toBeGreaterThan(0);
      expect(uids.filter((uid) => uid === '0')).toEqual([]);
      const events = [sampleAuditEvent(1), sampleAuditEvent(2)];
      const res = await fetch(`http://127.0.0.1:${port}/v1/clusters/image-test/audit`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(sampleEventList(events)),
      });
      expect(res.status, await logs()).toBe(200);
      const client = createKafkaClient({ brokers: [brokers], clientId: uniqueName('image-check'), logger: silentLogger() });
      // Events, not records: a raw.v2 record holds many (acknowledged means all of them are on the topic now).
      const records = await consumeRawEvents(client, rawTopic);
      expect(records.map((r) => (JSON.parse(r.value?.toString() ?? '{}') as { auditID?: string }).auditID).sort()).toEqual(events.map((e) => e.auditID).sort());
    } finally {
      await docker('rm', '-f', name).catch(() => undefined);
    }
  }, 240_000);
});
