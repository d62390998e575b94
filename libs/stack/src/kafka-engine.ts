import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { KauditError } from '@kaudit/errors';
import { createKafkaClient } from '@kaudit/kafka';
import type { Logger } from '@kaudit/logging';
import { isAlive, readLivePid, spawnDetached, tailFile } from './process-control.js';
import { requireKafkaPrerequisites, requireMaven } from './prerequisites.js';

const run = promisify(execFile);

/** Pinned broker version; must match kafka.version in assets/pom.xml. */
export const KAFKA_VERSION = '3.9.1';

const ASSETS = fileURLToPath(new URL('../assets/', import.meta.url));

export interface KafkaEngineOptions {
  /** Folder for this broker's config, data, log and PID file. */
  dir: string;
  /** Shared cache for the broker jars (reused across stacks and runs). */
  cacheDir: string;
  port: number;
  controllerPort: number;
  heapMb?: number;
  logger: Logger;
}

export interface KafkaPaths {
  jars: string;
  data: string;
  config: string;
  log: string;
  pid: string;
}

export function kafkaPaths(options: Pick<KafkaEngineOptions, 'dir' | 'cacheDir'>): KafkaPaths {
  return {
    jars: join(options.cacheDir, `kafka-${KAFKA_VERSION}`, 'libs'),
    data: join(options.dir, 'data'),
    config: join(options.dir, 'server.properties'),
    log: join(options.dir, 'kafka.log'),
    pid: join(options.dir, 'kafka.pid'),
  };
}

/**
 * Resolves the broker's runtime jars from Maven Central into the cache once; later runs find the
 * completion marker and skip Maven entirely.
 */
export async function ensureKafkaJars(cacheDir: string, logger: Logger): Promise<string> {
  const jars = join(cacheDir, `kafka-${KAFKA_VERSION}`, 'libs');
  const marker = join(jars, '.complete');
  if (existsSync(marker)) return jars;
  requireMaven();
  logger.info({ event: 'kafka_jars_resolving', version: KAFKA_VERSION }, `resolving Apache Kafka ${KAFKA_VERSION} jars from Maven Central (first run only)`);
  rmSync(jars, { recursive: true, force: true });
  mkdirSync(jars, { recursive: true });
  try {
    await run(
      'mvn',
      ['-q', '-B', '-f', join(ASSETS, 'pom.xml'), 'dependency:copy-dependencies', `-DoutputDirectory=${jars}`, '-DincludeScope=runtime'],
      { maxBuffer: 64 * 1024 * 1024 },
    );
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    throw new KauditError('STACK_PREREQUISITE', `Maven could not resolve the Kafka jars: ${(e.stdout ?? '') + (e.stderr ?? '')}`.slice(0, 4000), { cause: err });
  }
  const count = readdirSync(jars).filter((f) => f.endsWith('.jar')).length;
  if (count === 0) throw new KauditError('STACK_PREREQUISITE', 'Maven finished but no Kafka jars were copied');
  writeFileSync(marker, `${KAFKA_VERSION}\n`);
  return jars;
}

function serverProperties(options: KafkaEngineOptions, dataDir: string): string {
  return [
    '# Written by kaudit on every start of the local stack; edits are overwritten.',
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${options.controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${options.port},CONTROLLER://127.0.0.1:${options.controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${options.port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${dataDir}`,
    // One broker: internal topics cannot have more replicas than that.
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=10',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'default.replication.factor=1',
    'min.insync.replicas=1',
    // kaudit creates its topics explicitly with the partitions and configs it needs.
    'auto.create.topics.enable=false',
    // Consumers in tests and the dev stack should not wait 3 s for a first rebalance.
    'group.initial.rebalance.delay.ms=0',
    'num.partitions=1',
    'log.segment.bytes=67108864',
    'log.retention.check.interval.ms=60000',
    'delete.topic.enable=true',
    '',
  ].join('\n');
}

/** Waits until a Kafka admin client sees the broker, or the process died, or the deadline passed. */
export async function waitForKafka(brokers: string, logger: Logger, timeoutMs: number, pid?: number, log?: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // Refused connections are the expected answer while the broker boots: keep them out of the log.
  const quiet = logger.child({ component: 'stack' }, { level: 'silent' });
  const admin = createKafkaClient({ brokers: [brokers], clientId: 'kaudit-stack', logger: quiet, connectionTimeoutMs: 1000, requestTimeoutMs: 5000 }).admin();
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (pid !== undefined && !isAlive(pid)) {
      throw new KauditError('STACK_START_FAILED', `Kafka exited during start-up. Last log lines (${log ?? ''}):\n${log ? tailFile(log) : ''}`);
    }
    try {
      await admin.start();
      const info = await admin.describeCluster();
      await admin.stop();
      if (info.brokers.length > 0) return;
    } catch (err) {
      lastError = err;
      await admin.stop().catch(() => undefined);
    }
    await sleep(300);
  }
  throw new KauditError('STACK_START_FAILED', `Kafka at ${brokers} was not ready within ${timeoutMs} ms: ${(lastError as Error | undefined)?.message ?? 'no answer'}${log ? `\nLast log lines (${log}):\n${tailFile(log)}` : ''}`);
}

/**
 * Starts a single-node KRaft broker+controller as a detached Java process and waits until it serves.
 * Returns its PID. Formats the storage only on first use of the data folder.
 */
export async function startKafka(options: KafkaEngineOptions): Promise<number> {
  requireKafkaPrerequisites();
  const paths = kafkaPaths(options);
  const running = readLivePid(paths.pid);
  if (running !== undefined) return running;
  const jars = await ensureKafkaJars(options.cacheDir, options.logger);
  mkdirSync(paths.data, { recursive: true });
  writeFileSync(paths.config, serverProperties(options, paths.data));
  const classpath = `${jars}/*`;
  // 4 MiB G1 regions: with the default 1 MiB, every produce request near Kafka's 1 MiB message limit
  // is a "humongous" allocation, and the broker spent half a core in concurrent marking under load.
  const jvm = ['-Xms128m', `-Xmx${options.heapMb ?? 512}m`, '-XX:+UseG1GC', '-XX:G1HeapRegionSize=4m', '-XX:MaxGCPauseMillis=20', '-Djava.awt.headless=true', `-Dlog4j.configuration=file:${join(ASSETS, 'kafka-log4j.properties')}`];
  if (!existsSync(join(paths.data, 'meta.properties'))) {
    const { stdout: uuid } = await run('java', ['-cp', classpath, 'kafka.tools.StorageTool', 'random-uuid']);
    const clusterId = uuid.trim().split('\n').pop() ?? '';
    await run('java', [...jvm, '-cp', classpath, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', paths.config]);
  }
  const pid = spawnDetached({ command: 'java', args: [...jvm, '-cp', classpath, 'kafka.Kafka', paths.config], logFile: paths.log, pidFile: paths.pid, cwd: options.dir });
  await waitForKafka(`127.0.0.1:${options.port}`, options.logger, 90_000, pid, paths.log);
  return pid;
}
