import { execFileSync, spawnSync } from 'node:child_process';
import { KauditError } from '@kaudit/errors';

const ALTERNATIVES =
  'Alternatively point kaudit at engines you run yourself (KAFKA_BROKERS=host:9092, CLICKHOUSE_URL=http://host:8123) or use `docker compose up`.';

/** Path of a command on PATH, or undefined. */
export function which(command: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Java major version of `java` on PATH (e.g. 17), or undefined when there is none. */
export function javaMajorVersion(): number | undefined {
  if (!which('java')) return undefined;
  // `java -version` writes to stderr.
  const result = spawnSync('java', ['-version'], { encoding: 'utf8' });
  return parseJavaVersion(`${result.stdout ?? ''}${result.stderr ?? ''}`);
}

export function parseJavaVersion(text: string): number | undefined {
  const m = /version "(\d+)(?:\.(\d+))?/.exec(text);
  if (!m) return undefined;
  const major = Number(m[1]);
  return major === 1 ? Number(m[2]) : major; // "1.8.0" is Java 8
}

export function requireKafkaPrerequisites(): void {
  const java = javaMajorVersion();
  if (java === undefined) {
    throw new KauditError('STACK_PREREQUISITE', `The local Kafka needs Java 17 or newer on PATH (none found). Install a JDK (e.g. apt-get install openjdk-17-jre-headless). ${ALTERNATIVES}`);
  }
  if (java < 17) {
    throw new KauditError('STACK_PREREQUISITE', `The local Kafka needs Java 17 or newer; found Java ${java}. ${ALTERNATIVES}`);
  }
}

export function requireMaven(): void {
  if (!which('mvn')) {
    throw new KauditError('STACK_PREREQUISITE', `Resolving the Kafka broker jars needs Apache Maven (mvn) on PATH the first time (e.g. apt-get install maven). ${ALTERNATIVES}`);
  }
}

export function requireClickHousePlatform(platform: string = process.platform, arch: string = process.arch): void {
  if (platform !== 'linux' || arch !== 'x64') {
    throw new KauditError('STACK_PREREQUISITE', `The bundled ClickHouse engine (@chdb/lib-linux-x64-gnu) runs only on linux-x64 with glibc; this is ${platform}-${arch}. Put a \`clickhouse\` binary on PATH, or: ${ALTERNATIVES}`);
  }
}

export function requireCompiler(): string {
  const cc = which('cc') ?? which('gcc');
  if (!cc) {
    throw new KauditError('STACK_PREREQUISITE', `Building the ClickHouse launcher needs a C compiler (cc/gcc) the first time (e.g. apt-get install gcc). ${ALTERNATIVES}`);
  }
  return cc;
}

export async function requirePortFree(isFree: (port: number) => Promise<boolean>, port: number, what: string, envHint: string): Promise<void> {
  if (!(await isFree(port))) {
    throw new KauditError('STACK_PREREQUISITE', `Port ${port} for the local ${what} is already in use. Stop whatever listens there (\`npm run stack:status\` shows kaudit's own), choose another port with ${envHint}, or use that engine by setting ${what === 'Kafka' ? 'KAFKA_BROKERS' : 'CLICKHOUSE_URL'}.`);
  }
}
