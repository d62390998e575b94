import { createServer, connect, type Socket } from 'node:net';

/** A TCP proxy in front of a plaintext broker that can cut a client's connection at a chosen request. */
export interface KafkaFaultProxy {
  /** Where clients connect (the broker must advertise it, see KafkaEngineOptions.advertisedPort). */
  port: number;
  /**
   * Closes the connection that carries the next request of this Kafka API (e.g. 11, JoinGroup) before the broker
   * sees it, as a broker that went away mid-request would. Resolves once it did.
   */
  dropNext(apiKey: number): Promise<void>;
  close(): Promise<void>;
}

/** Request frames: int32 size, then int16 api key (the rest is passed on as it comes). */
const HEADER_BYTES = 6;

/**
 * Listens on `port` (0: any free one) and forwards to the broker. The broker must advertise the proxy's port, or
 * clients reach it directly after their first metadata request.
 */
export async function startKafkaFaultProxy(broker: { host: string; port: number }, port = 0): Promise<KafkaFaultProxy> {
  const armed = new Map<number, () => void>();
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(broker.port, broker.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
      s.on('error', () => undefined); // a cut connection errors on the other side; that is the point
    }
    const cut = () => {
      client.destroy();
      upstream.destroy();
    };
    client.once('close', cut);
    upstream.once('close', cut);
    upstream.pipe(client);
    let header = Buffer.alloc(0);
    let passThrough = 0;
    client.on('data', (data: Buffer) => {
      let chunk = data;
      while (chunk.length > 0) {
        if (passThrough > 0) {
          const n = Math.min(passThrough, chunk.length);
          upstream.write(chunk.subarray(0, n));
          passThrough -= n;
          chunk = chunk.subarray(n);
          continue;
        }
        const take = Math.min(HEADER_BYTES - header.length, chunk.length);
        header = Buffer.concat([header, chunk.subarray(0, take)]);
        chunk = chunk.subarray(take);
        if (header.length < HEADER_BYTES) return;
        const apiKey = header.readInt16BE(4);
        const dropped = armed.get(apiKey);
        if (dropped !== undefined) {
          armed.delete(apiKey);
          cut();
          dropped();
          return;
        }
        upstream.write(header);
        passThrough = header.readInt32BE(0) - 2;
        header = Buffer.alloc(0);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port }, resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : port,
    dropNext: (apiKey) => new Promise<void>((resolve) => armed.set(apiKey, resolve)),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
