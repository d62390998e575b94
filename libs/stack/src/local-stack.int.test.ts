import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isKauditError } from '@kaudit/errors';
import { silentLogger } from '@kaudit/testkit';
import { LocalStack } from './local-stack.js';
import { freePort, isAlive } from './process-control.js';

const root = fileURLToPath(new URL('../../../.kaudit', import.meta.url));

describe('LocalStack', () => {
  it('starts both engines, reports versions, and stack down leaves no process behind', async () => {
    const name = `stacktest-${process.pid}`;
    rmSync(join(root, 'stack', name), { recursive: true, force: true });
    const stack = new LocalStack({
      root,
      name,
      kafkaPort: await freePort(),
      kafkaControllerPort: await freePort(),
      clickhouseHttpPort: await freePort(),
      logger: silentLogger(),
    });
    try {
      await stack.up();
      const status = await stack.status();
      const kafka = status.find((s) => s.engine === 'kafka');
      const ch = status.find((s) => s.engine === 'clickhouse');
      expect(kafka).toMatchObject({ state: 'running', mode: 'local', version: '3.9.1' });
      expect(ch?.state).toBe('running');
      expect(Number(ch?.version?.split('.')[0])).toBeGreaterThanOrEqual(24);
      const pids = status.map((s) => s.pid).filter((p): p is number => p !== undefined);
      expect(pids).toHaveLength(2);
      // What the pipeline bench splits the engines' CPU by: the same processes status() reports.
      expect(stack.enginePids()).toEqual({ kafka: kafka?.pid, clickhouse: ch?.pid });

      // A second up() finds the running engines and starts nothing new.
      await stack.up();
      expect((await stack.status()).map((s) => s.pid)).toEqual(status.map((s) => s.pid));

      // The same engines asked for on other ports: refused with a way out, never silently reused.
      const elsewhere = new LocalStack({ root, name, kafkaPort: await freePort(), kafkaControllerPort: await freePort(), clickhouseHttpPort: await freePort(), logger: silentLogger() });
      const refused = await elsewhere.up().catch((e: unknown) => e);
      expect(isKauditError(refused, 'STACK_PREREQUISITE')).toBe(true);
      expect((refused as Error).message).toMatch(/already running on port \d+/);

      const down = await stack.down();
      expect(down.map((d) => d.outcome)).toEqual(['stopped', 'stopped']);
      for (const pid of pids) expect(isAlive(pid)).toBe(false);
      expect((await stack.status()).map((s) => s.state)).toEqual(['stopped', 'stopped']);
      expect(stack.enginePids()).toEqual({});
    } finally {
      await stack.down();
      rmSync(join(root, 'stack', name), { recursive: true, force: true });
    }
  });

  it('refuses to start on a port in use, saying what to do instead', async () => {
    const { createServer } = await import('node:net');
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const address = blocker.address();
    const busy = typeof address === 'object' && address !== null ? address.port : 0;
    const name = `busy-${process.pid}`;
    const stack = new LocalStack({ root, name, kafkaPort: await freePort(), kafkaControllerPort: await freePort(), clickhouseHttpPort: busy, externalKafka: 'unused:1', logger: silentLogger() });
    const err = await stack.up().catch((e: unknown) => e);
    blocker.close();
    rmSync(join(root, 'stack', name), { recursive: true, force: true });
    expect(isKauditError(err, 'STACK_PREREQUISITE')).toBe(true);
    expect((err as Error).message).toContain(`Port ${busy}`);
    expect((err as Error).message).toContain('CLICKHOUSE_URL');
  });
});
