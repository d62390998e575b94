import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KauditError } from '@kaudit/errors';
import type { Logger } from '@kaudit/logging';
import { ensureKafkaJars, freePort, startKafka, stopKafka } from '@kaudit/stack';
import { makeTestCertificates, type TestCertificates } from './test-certificates.js';
import { uniqueName } from './test-endpoints.js';

const ROOT = join(import.meta.dirname, '..', '..', '..', '.kaudit');
const run = promisify(execFile);

/** One ACL (Kafka's AclCommand terms): `user` may do `operations` on the named topic, group, or the cluster. */
export interface KafkaAcl {
  user: string;
  operations: readonly string[];
  resource: { topic: string } | { group: string } | { cluster: true };
}

/** A private broker that only speaks TLS, for the tests of secured connections. */
export interface SecuredKafka {
  /** SASL_SSL listener: PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 for `user`. */
  saslSslBrokers: string;
  /** SSL listener that requires a client certificate signed by `certs.caFile` (no SASL). */
  mtlsBrokers: string;
  certs: TestCertificates;
  user: { username: string; password: string };
  /**
   * With `authorizer`: a super user (may do anything, ACLs included), while `user` may do only what an ACL
   * allows. Absent without it (every authenticated user may do anything).
   */
  admin: { username: string; password: string } | undefined;
  /** Adds or removes an ACL (with `authorizer` only), through the broker as `admin`; resolves once it applies. */
  grant(acl: KafkaAcl): Promise<void>;
  revoke(acl: KafkaAcl): Promise<void>;
  stop(): Promise<void>;
}

export interface SecuredKafkaOptions {
  /** Turn on the broker's ACL authorizer (see SecuredKafka.admin). */
  authorizer?: boolean;
}

/**
 * Starts one Kafka 3.9 broker (KRaft, same cached jars as the stack) with a SASL_SSL and an mTLS
 * listener, certificates made by openssl for this run. One per test file: it costs a JVM.
 */
export async function startSecuredKafka(logger: Logger, options: SecuredKafkaOptions = {}): Promise<SecuredKafka> {
  const dir = join(ROOT, 'stack', uniqueName('secured-kafka'));
  const certsDir = join(dir, 'certs');
  mkdirSync(certsDir, { recursive: true });
  const certs = makeTestCertificates(certsDir);
  const user = { username: 'kaudit-app', password: randomBytes(18).toString('base64url') };
  const admin = options.authorizer === true ? { username: 'kaudit-admin', password: randomBytes(18).toString('base64url') } : undefined;
  const [port, mtlsPort, controllerPort] = [await freePort(), await freePort(), await freePort()];
  const engine = { dir: join(dir, 'kafka'), cacheDir: join(ROOT, 'cache') };
  try {
    await startKafka({
      ...engine,
      port,
      controllerPort,
      heapMb: 384,
      // Not left running when the test run is killed.
      tethered: true,
      security: {
        keystoreFile: certs.brokerKeystoreFile,
        truststoreFile: certs.caFile,
        users: admin === undefined ? [user] : [user, admin],
        mtlsPort,
        ...(admin === undefined ? {} : { authorizer: { superUsers: [admin.username] } }),
      },
      logger,
    });
  } catch (err) {
    await stopKafka(engine, 5000);
    throw err;
  }
  const brokers = `127.0.0.1:${port}`;
  const adminConfig = join(dir, 'admin.properties');
  if (admin !== undefined) {
    writeFileSync(
      adminConfig,
      [
        'security.protocol=SASL_SSL',
        'sasl.mechanism=PLAIN',
        `sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="${admin.username}" password="${admin.password}";`,
        'ssl.truststore.type=PEM',
        `ssl.truststore.location=${certs.caFile}`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
  }
  // Kafka's own tool, not our client: ACLs are the test's lever on the broker, not something kaudit manages.
  const aclCommand = async (action: '--add' | '--remove', acl: KafkaAcl) => {
    if (admin === undefined) throw new KauditError('INTERNAL', 'startSecuredKafka: ACLs need { authorizer: true }');
    const jars = await ensureKafkaJars(engine.cacheDir, logger);
    const resource = 'topic' in acl.resource ? ['--topic', acl.resource.topic] : 'group' in acl.resource ? ['--group', acl.resource.group] : ['--cluster'];
    const args = ['-cp', `${jars}/*`, 'kafka.admin.AclCommand', '--bootstrap-server', brokers, '--command-config', adminConfig, action, '--force', '--allow-principal', `User:${acl.user}`];
    await run('java', [...args, ...acl.operations.flatMap((o) => ['--operation', o]), ...resource], { maxBuffer: 4 << 20 });
  };
  return {
    saslSslBrokers: brokers,
    mtlsBrokers: `127.0.0.1:${mtlsPort}`,
    certs,
    user,
    admin,
    grant: (acl) => aclCommand('--add', acl),
    revoke: (acl) => aclCommand('--remove', acl),
    async stop() {
      await stopKafka(engine);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
