import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Secret } from '@kaudit/config';
import { isKauditError, KauditError } from '@kaudit/errors';
import { createKafkaClient, type KafkaSecurityOptions } from '@kaudit/kafka';
import type { Logger } from '@kaudit/logging';
import { isAlive, readLivePid, spawnDetached, stopPid, tailFile } from './process-control.js';
import { requireKafkaPrerequisites, requireMaven } from './prerequisites.js';

const run = promisify(execFile);

/** Pinned broker version; must match kafka.version in assets/pom.xml. */
export const KAFKA_VERSION = '3.9.1';

const ASSETS = fileURLToPath(new URL('../assets/', import.meta.url));

/**
 * A broker that accepts clients only over TLS: `port` becomes a SASL_SSL listener (PLAIN and
 * SCRAM-SHA-256/512 for every user) and, with `mtlsPort`, an SSL listener that requires a client
 * certificate signed by the trusted CA. Files are PEM (Kafka reads them with ssl.*.type=PEM).
 */
export interface KafkaBrokerSecurity {
  /** The broker's unencrypted PKCS#8 private key followed by its certificate chain. */
  keystoreFile: string;
  /** CA certificates the broker trusts for client certificates (and for its own inter-broker TLS). */
  truststoreFile: string;
  users: readonly { username: string; password: string }[];
  mtlsPort?: number;
  /**
   * Turns on Kafka's ACL authorizer (StandardAuthorizer): then a client may do only what an ACL allows it, except
   * these user names, which may do anything (e.g. a test's admin that grants and revokes the ACLs).
   */
  authorizer?: { superUsers: readonly string[] };
}

/** This broker's place in a multi-broker KRaft cluster (every member is broker and controller). */
export interface KafkaClusterMember {
  nodeId: number;
  /** `id@host:controllerPort` of every member: the controller quorum. */
  quorumVoters: string;
  /** Shared by all members; each one's storage is formatted with it. */
  clusterId: string;
  size: number;
}

export interface KafkaEngineOptions {
  /** Folder for this broker's config, data, log and PID file. */
  dir: string;
  /** Shared cache for the broker jars (reused across stacks and runs). */
  cacheDir: string;
  port: number;
  /** The port clients are told to connect to, when not `port`: a test's proxy in front of a plaintext broker. */
  advertisedPort?: number;
  controllerPort: number;
  heapMb?: number;
  security?: KafkaBrokerSecurity;
  /** Absent: a single-node cluster of its own (the dev and test stacks). */
  cluster?: KafkaClusterMember;
  /** The broker stops when this process dies, however it dies (spawnDetached's tether); otherwise it outlives it. */
  tethered?: boolean;
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

/** The broker's own SASL user for its inter-broker listener; never handed to clients. */
interface BrokerIdentity {
  username: string;
  password: string;
}

/** JAAS and config values are written in double quotes; a quote or backslash in them would break the file. */
function jaasValue(value: string): string {
  if (!/^[A-Za-z0-9._~+=@-]+$/.test(value)) throw new KauditError('CONFIG_INVALID', `Kafka test-broker user names and passwords must be plain tokens, not ${JSON.stringify(value)}`);
  return value;
}

function listenerProperties(options: KafkaEngineOptions, self: BrokerIdentity | undefined): string[] {
  const sec = options.security;
  if (sec === undefined || self === undefined) {
    return [
      `listeners=PLAINTEXT://127.0.0.1:${options.port},CONTROLLER://127.0.0.1:${options.controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${options.advertisedPort ?? options.port}`,
      'inter.broker.listener.name=PLAINTEXT',
      'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    ];
  }
  const mtls = sec.mtlsPort === undefined ? [] : [`MTLS://127.0.0.1:${sec.mtlsPort}`];
  const plainUsers = [self, ...sec.users].map((u) => `user_${jaasValue(u.username)}="${jaasValue(u.password)}"`).join(' ');
  return [
    `listeners=${[`SASL_SSL://127.0.0.1:${options.port}`, ...mtls, `CONTROLLER://127.0.0.1:${options.controllerPort}`].join(',')}`,
    `advertised.listeners=${[`SASL_SSL://127.0.0.1:${options.port}`, ...mtls].join(',')}`,
    // The controller listener stays on loopback in plaintext: only this broker's own process uses it.
    'listener.security.protocol.map=SASL_SSL:SASL_SSL,MTLS:SSL,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name=SASL_SSL',
    'sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
    'sasl.mechanism.inter.broker.protocol=PLAIN',
    // PLAIN users live in the JAAS line; SCRAM users were created by `kafka-storage format --add-scram`.
    `listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="${self.username}" password="${self.password}" ${plainUsers};`,
    'listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
    'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
    'ssl.keystore.type=PEM',
    `ssl.keystore.location=${sec.keystoreFile}`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${sec.truststoreFile}`,
    'listener.name.mtls.ssl.client.auth=required',
    ...(sec.authorizer === undefined
      ? []
      : [
          'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
          // The broker itself, and ANONYMOUS: the plaintext controller listener, used only by this broker's own process.
          `super.users=${['User:ANONYMOUS', `User:${self.username}`, ...sec.authorizer.superUsers.map((u) => `User:${jaasValue(u)}`)].join(';')}`,
          'allow.everyone.if.no.acl.found=false',
        ]),
  ];
}

function serverProperties(options: KafkaEngineOptions, dataDir: string, self: BrokerIdentity | undefined): string {
  const member = options.cluster;
  const internalReplicas = Math.min(3, member?.size ?? 1);
  return [
    '# Written by kaudit on every start of the local stack; edits are overwritten.',
    'process.roles=broker,controller',
    `node.id=${member?.nodeId ?? 1}`,
    `controller.quorum.voters=${member?.quorumVoters ?? `1@127.0.0.1:${options.controllerPort}`}`,
    'controller.listener.names=CONTROLLER',
    ...listenerProperties(options, self),
    `log.dirs=${dataDir}`,
    // Internal topics get as many replicas as there are brokers (up to 3). kaudit's own topics get theirs
    // from `kaudit setup` (KAUDIT_TOPIC_REPLICATION_FACTOR / _MIN_INSYNC_REPLICAS), so the broker defaults stay 1.
    `offsets.topic.replication.factor=${internalReplicas}`,
    'offsets.topic.num.partitions=10',
    `transaction.state.log.replication.factor=${internalReplicas}`,
    `transaction.state.log.min.isr=${internalReplicas > 1 ? 2 : 1}`,
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

/** A fresh KRaft cluster id (kafka-storage random-uuid). */
export async function newKafkaClusterId(jars: string): Promise<string> {
  const { stdout } = await run('java', ['-cp', `${jars}/*`, 'kafka.tools.StorageTool', 'random-uuid']);
  return stdout.trim().split('\n').pop() ?? '';
}

/** Stops a broker started by startKafka (SIGTERM, then SIGKILL after `graceMs`); a no-op when it is not running. */
export async function stopKafka(options: Pick<KafkaEngineOptions, 'dir' | 'cacheDir'>, graceMs = 20_000): Promise<void> {
  const { pid: pidFile } = kafkaPaths(options);
  const pid = readLivePid(pidFile);
  if (pid !== undefined) await stopPid(pid, pidFile, graceMs);
}

/** Waits until a Kafka admin client sees the broker, or the process died, or the deadline passed. */
export async function waitForKafka(
  brokers: string,
  logger: Logger,
  timeoutMs: number,
  pid?: number,
  log?: string,
  security: KafkaSecurityOptions = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // Refused connections are the expected answer while the broker boots: keep them out of the log.
  const quiet = logger.child({ component: 'stack' }, { level: 'silent' });
  const admin = createKafkaClient({ brokers: brokers.split(','), clientId: 'kaudit-stack', logger: quiet, connectionTimeoutMs: 1000, requestTimeoutMs: 5000, ...security }).admin();
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
      await admin.stop().catch(() => undefined);
      // Wrong credentials or an untrusted certificate will not fix themselves while we wait.
      if (isKauditError(err, 'KAFKA_AUTH_FAILED')) throw err;
      lastError = err;
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
  // A fresh inter-broker password per start: nothing outside this process tree ever needs it.
  const self = options.security === undefined ? undefined : { username: 'kaudit-broker', password: randomBytes(18).toString('base64url') };
  writeFileSync(paths.config, serverProperties(options, paths.data, self), { mode: 0o600 });
  const classpath = `${jars}/*`;
  // 4 MiB G1 regions: with the default 1 MiB, every produce request near Kafka's 1 MiB message limit
  // is a "humongous" allocation, and the broker spent half a core in concurrent marking under load.
  const jvm = ['-Xms128m', `-Xmx${options.heapMb ?? 512}m`, '-XX:+UseG1GC', '-XX:G1HeapRegionSize=4m', '-XX:MaxGCPauseMillis=20', '-Djava.awt.headless=true', `-Dlog4j.configuration=file:${join(ASSETS, 'kafka-log4j.properties')}`];
  if (!existsSync(join(paths.data, 'meta.properties'))) {
    const clusterId = options.cluster?.clusterId ?? (await newKafkaClusterId(jars));
    // SCRAM credentials live in the cluster metadata, so they are written at format time (KIP-900).
    const scram = (options.security?.users ?? []).flatMap((u) =>
      ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((m) => ['--add-scram', `${m}=[name=${jaasValue(u.username)},password=${jaasValue(u.password)}]`]),
    );
    await run('java', [...jvm, '-cp', classpath, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', paths.config, ...scram]);
  }
  const pid = spawnDetached({
    command: 'java',
    args: [...jvm, '-cp', classpath, 'kafka.Kafka', paths.config],
    logFile: paths.log,
    pidFile: paths.pid,
    cwd: options.dir,
    ...(options.tethered === true ? { tether: 'wrap' as const } : {}),
  });
  const wait: KafkaSecurityOptions =
    self === undefined || options.security === undefined
      ? {}
      : { ssl: { caFile: options.security.truststoreFile }, sasl: { mechanism: 'plain', username: self.username, password: new Secret(self.password) } };
  await waitForKafka(`127.0.0.1:${options.port}`, options.logger, 90_000, pid, paths.log, wait);
  return pid;
}
