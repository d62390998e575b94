import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { readEnv } from '@kaudit/config';
import { KauditError } from '@kaudit/errors';
import { TEST_ENV } from './test-env.js';
import { createLogger, type Logger } from '@kaudit/logging';

export interface TestEndpoints {
  kafkaBrokers: string;
  clickhouseUrl: string;
}

/** The one real Kafka and ClickHouse the whole suite shares (started by global-setup.ts). */
export function testEndpoints(): TestEndpoints {
  const env = readEnv();
  const kafkaBrokers = env[TEST_ENV.kafkaBrokers];
  const clickhouseUrl = env[TEST_ENV.clickhouseUrl];
  if (!kafkaBrokers || !clickhouseUrl) {
    throw new KauditError('INTERNAL', 'test engines are not set up: integration tests run in the vitest `integration` project, whose globalSetup starts them');
  }
  return { kafkaBrokers, clickhouseUrl };
}

/** A topic/database/group name no other test uses, so tests share engines without sharing state. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`.replace(/[^A-Za-z0-9_.-]/g, '_');
}

/** A logger that writes nowhere (set KAUDIT_TEST_LOG=debug to see it). */
export function silentLogger(service = 'test', level?: string): Logger {
  const chosen = level ?? 'silent';
  if (chosen === 'silent') return createLogger({ service, level: 'silent', destination: new Writable({ write: (_c, _e, done) => done() }) });
  return createLogger({ service, level: chosen });
}
