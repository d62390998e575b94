import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '@kaudit/testkit';
import { createKafkaClient } from './kafkajs-adapter.js';
import type { OutgoingRecord } from './types.js';

/** A port nothing listens on: any connection attempt would fail (and kafkajs would retry, not return). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('KafkaClient.warmUpCodecs', () => {
  it('needs no broker: a client of an unreachable one warms up, every record (keys, null keys, headers, tombstones) decoded back', async () => {
    let connections = 0;
    const listener = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const broker = `127.0.0.1:${(listener.address() as { port: number }).port}`;
    const client = createKafkaClient({ brokers: [broker, `127.0.0.1:${await closedPort()}`], clientId: 'warm-up-unit', logger: silentLogger('codec-warm-up-unit') });
    const records: OutgoingRecord[] = [
      ...Array.from({ length: 50 }, (_, i) => ({ key: i % 2 === 0 ? `k-${i}` : null, value: Buffer.from(`value-${i}`.repeat(i + 1)), headers: { h: `v-${i}` } })),
      { key: 'gone', value: '', tombstone: true },
      { key: Buffer.from([0, 1, 2]), value: 'text value' },
    ];
    try {
      for (const compression of ['none', 'zstd'] as const) {
        expect(await client.warmUpCodecs(records, { compression })).toEqual({ requests: 1, records: records.length, bytes: expect.any(Number) });
      }
      expect(await client.warmUpCodecs([])).toEqual({ requests: 0, records: 0, bytes: 0 });
    } finally {
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    }
    expect(connections).toBe(0);
  });
});
