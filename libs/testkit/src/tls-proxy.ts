import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { createServer, type TLSSocket } from 'node:tls';

export interface TlsProxyOptions {
  /** Plain-TCP service behind the proxy (e.g. the local ClickHouse's HTTP port). */
  targetHost: string;
  targetPort: number;
  certFile: string;
  keyFile: string;
  /** When set, clients must present a certificate signed by this CA (mTLS). */
  clientCaFile?: string;
}

export interface TlsProxy {
  port: number;
  close(): Promise<void>;
}

/**
 * A TLS-terminating TCP proxy (node:tls, real handshakes) in front of a plain service. The bundled
 * ClickHouse engine (clickhouse-local) cannot serve HTTPS — `SYSTEM START LISTEN` there supports only
 * the TCP and HTTP listeners — so tests put this in front of its HTTP port to talk to it over https.
 */
export async function startTlsProxy(options: TlsProxyOptions): Promise<TlsProxy> {
  const sockets = new Set<Socket>();
  const server = createServer(
    {
      cert: readFileSync(options.certFile),
      key: readFileSync(options.keyFile),
      ...(options.clientCaFile ? { ca: readFileSync(options.clientCaFile), requestCert: true, rejectUnauthorized: true } : {}),
    },
    (client: TLSSocket) => {
      const upstream = connect(options.targetPort, options.targetHost);
      sockets.add(client).add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream).pipe(client);
    },
  );
  // A failed handshake (the point of some tests) is the client's error to see, not the proxy's.
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('TLS proxy has no TCP address');
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
