import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalStack, freePort } from '@kaudit/stack';
import { silentLogger, testEndpoints, uniqueName } from '@kaudit/testkit';

const root = fileURLToPath(new URL('../../../../.kaudit', import.meta.url));

export interface PrivateStack {
  stack: LocalStack;
  kafkaBrokers: string;
  /** Stops the engines and removes the stack's files. */
  down(): Promise<void>;
}

/**
 * A private Kafka for a test that stops or breaks it (stopping the shared one would break everybody else's
 * tests); ClickHouse stays the suite's shared one.
 */
export async function startPrivateStack(prefix: string): Promise<PrivateStack> {
  const name = uniqueName(prefix);
  const stack = new LocalStack({
    root,
    name,
    kafkaPort: await freePort(),
    kafkaControllerPort: await freePort(),
    clickhouseHttpPort: await freePort(),
    externalClickHouse: testEndpoints().clickhouseUrl,
    logger: silentLogger(),
  });
  const { kafkaBrokers } = await stack.up();
  return {
    stack,
    kafkaBrokers,
    down: async () => {
      await stack.down();
      rmSync(join(root, 'stack', name), { recursive: true, force: true });
    },
  };
}
