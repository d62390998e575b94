import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KauditError } from '@kaudit/errors';
import { createKafkaClient } from '@kaudit/kafka';
import type { Logger } from '@kaudit/logging';
import { ensureKafkaJars, kafkaPaths, newKafkaClusterId, startKafka, stopKafka, type KafkaEngineOptions } from './kafka-engine.js';
import { freePort, isAlive, readLivePid } from './process-control.js';

export interface KafkaClusterOptions {
  /** Folder with one sub-folder per broker (config, data, log, PID file). */
  dir: string;
  cacheDir: string;
  size: number;
  heapMb?: number;
  logger: Logger;
}

/** One broker (and controller) of a KafkaCluster, for fault injection. */
export interface KafkaClusterNode {
  nodeId: number;
  broker: string;
  /** SIGKILL: no shutdown, no flush — a crashed machine, as far as Kafka can tell. */
  kill(): Promise<void>;
  /** Starts it again on its existing data and waits until it serves. */
  start(): Promise<void>;
  /** SIGSTOP / SIGCONT: a broker that hangs (GC pause, frozen VM) without its connections closing. */
  pause(): void;
  resume(): void;
}

export interface KafkaCluster {
  /** Every broker, comma-separated (KAFKA_BROKERS). */
  brokers: string;
  nodes: readonly KafkaClusterNode[];
  stop(): Promise<void>;
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

/** Resolves once the cluster's metadata lists `size` live brokers. */
async function waitForBrokers(brokers: string, size: number, logger: Logger, timeoutMs: number): Promise<void> {
  const quiet = logger.child({ component: 'stack' }, { level: 'silent' });
  const admin = createKafkaClient({ brokers: brokers.split(','), clientId: 'kaudit-stack', logger: quiet, connectionTimeoutMs: 1000, requestTimeoutMs: 5000 }).admin();
  const deadline = Date.now() + timeoutMs;
  let seen = 0;
  while (Date.now() < deadline) {
    try {
      await admin.start();
      seen = (await admin.describeCluster()).brokers.length;
      await admin.stop();
      if (seen >= size) return;
    } catch {
      await admin.stop().catch(() => undefined);
    }
    await sleep(300);
  }
  throw new KauditError('STACK_START_FAILED', `Kafka cluster ${brokers} showed ${seen} of ${size} brokers within ${timeoutMs} ms`);
}

/**
 * A KRaft cluster of `size` processes on loopback, each broker and controller (one quorum of all of
 * them), from the same cached jars as the local stack. For tests of replication and broker failure.
 */
export async function startKafkaCluster(options: KafkaClusterOptions): Promise<KafkaCluster> {
  const jars = await ensureKafkaJars(options.cacheDir, options.logger);
  const ports = await distinctFreePorts(options.size * 2);
  const clusterId = await newKafkaClusterId(jars);
  const ids = Array.from({ length: options.size }, (_, i) => i + 1);
  const quorumVoters = ids.map((id, i) => `${id}@127.0.0.1:${ports[options.size + i] ?? 0}`).join(',');
  const engines: KafkaEngineOptions[] = ids.map((nodeId, i) => ({
    dir: join(options.dir, `node-${nodeId}`),
    cacheDir: options.cacheDir,
    port: ports[i] ?? 0,
    controllerPort: ports[options.size + i] ?? 0,
    heapMb: options.heapMb ?? 384,
    // A test's brokers: none left running when the test run is killed.
    tethered: true,
    logger: options.logger,
    cluster: { nodeId, quorumVoters, clusterId, size: options.size },
  }));
  const brokers = engines.map((e) => `127.0.0.1:${e.port}`).join(',');
  const stop = async () => {
    await Promise.all(engines.map((e) => stopKafka(e)));
  };
  try {
    // Together: no member serves before a majority of the quorum is up.
    await Promise.all(engines.map((e) => startKafka(e)));
    await waitForBrokers(brokers, options.size, options.logger, 90_000);
  } catch (err) {
    await stop();
    throw err;
  }
  const nodes = engines.map(
    (engine): KafkaClusterNode => ({
      nodeId: engine.cluster?.nodeId ?? 0,
      broker: `127.0.0.1:${engine.port}`,
      async kill() {
        const pid = readLivePid(kafkaPaths(engine).pid);
        if (pid === undefined) return;
        process.kill(-pid, 'SIGKILL');
        while (isAlive(pid)) await sleep(50);
      },
      async start() {
        await startKafka(engine);
        await waitForBrokers(brokers, options.size, options.logger, 90_000);
      },
      pause() {
        const pid = readLivePid(kafkaPaths(engine).pid);
        if (pid !== undefined) process.kill(-pid, 'SIGSTOP');
      },
      resume() {
        const pid = readLivePid(kafkaPaths(engine).pid);
        if (pid !== undefined) process.kill(-pid, 'SIGCONT');
      },
    }),
  );
  return { brokers, nodes, stop };
}
