import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '@kaudit/logging';
import { freePort, startKafka, stopKafka } from '@kaudit/stack';
import { makeTestCertificates, type TestCertificates } from './test-certificates.js';
import { uniqueName } from './test-endpoints.js';

const ROOT = join(import.meta.dirname, '..', '..', '..', '.kaudit');

/** A private broker that only speaks TLS, for the tests of secured connections. */
export interface SecuredKafka {
  /** SASL_SSL listener: PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 for `user`. */
  saslSslBrokers: string;
  /** SSL listener that requires a client certificate signed by `certs.caFile` (no SASL). */
  mtlsBrokers: string;
  certs: TestCertificates;
  user: { username: string; password: string };
  stop(): Promise<void>;
}

/**
 * Starts one Kafka 3.9 broker (KRaft, same cached jars as the stack) with a SASL_SSL and an mTLS
 * listener, certificates made by openssl for this run. One per test file: it costs a JVM.
 */
export async function startSecuredKafka(logger: Logger): Promise<SecuredKafka> {
  const dir = join(ROOT, 'stack', uniqueName('secured-kafka'));
  const certsDir = join(dir, 'certs');
  mkdirSync(certsDir, { recursive: true });
  const certs = makeTestCertificates(certsDir);
  const user = { username: 'kaudit-app', password: randomBytes(18).toString('base64url') };
  const [port, mtlsPort, controllerPort] = [await freePort(), await freePort(), await freePort()];
  const engine = { dir: join(dir, 'kafka'), cacheDir: join(ROOT, 'cache') };
  try {
    await startKafka({
      ...engine,
      port,
      controllerPort,
      heapMb: 384,
      security: { keystoreFile: certs.brokerKeystoreFile, truststoreFile: certs.caFile, users: [user], mtlsPort },
      logger,
    });
  } catch (err) {
    await stopKafka(engine, 5000);
    throw err;
  }
  return {
    saslSslBrokers: `127.0.0.1:${port}`,
    mtlsBrokers: `127.0.0.1:${mtlsPort}`,
    certs,
    user,
    async stop() {
      await stopKafka(engine);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
