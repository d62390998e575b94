import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readEnv } from '@kaudit/config';
import { KauditError } from '@kaudit/errors';
import { TEST_ENV } from './test-env.js';

/**
 * Bytes a broker holds for a topic: the size of its partitions' segment files (`<topic>-<n>/*.log`) in
 * log.dirs — the broker's own storage, what DescribeLogDirs reports, not a client's estimate. Index files
 * are left out (preallocated); a deleted topic's `-delete` folders do not match.
 */
export function topicLogBytes(dataDir: string, topic: string): number {
  const partitionDir = /^(.*)-(\d+)$/;
  let bytes = 0;
  for (const dir of readdirSync(dataDir)) {
    if (partitionDir.exec(dir)?.[1] !== topic) continue;
    for (const file of readdirSync(join(dataDir, dir))) if (file.endsWith('.log')) bytes += statSync(join(dataDir, dir, file)).size;
  }
  return bytes;
}

/** The suite's local test broker's log.dirs (set by global-setup.ts only when it started the broker). */
export function testKafkaDataDir(): string {
  const dir = readEnv()[TEST_ENV.kafkaDataDir];
  if (!dir) throw new KauditError('INTERNAL', `this test reads the broker's segment files, so it needs the suite's local broker: unset KAFKA_BROKERS (${TEST_ENV.kafkaDataDir} is not set)`);
  return dir;
}
