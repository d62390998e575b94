/**
 * How the benches post webhook batches to ingest: node:http with keep-alive sockets and bodies already in bytes,
 * like an apiserver's webhook client. fetch() (undici, web streams) spent more CPU than ingest itself on this 2-core
 * machine, and each string body was encoded again per send: CPU the load generator takes from the cores the
 * measured services share (an apiserver runs elsewhere).
 */
import { Agent, request } from 'node:http';

export interface WebhookAnswer {
  status: number;
  body: Buffer;
  /** When the answer's headers arrived (ms since epoch): the acknowledgement. */
  headersAt: number;
}

export interface WebhookPoster {
  post(path: string, headers: Readonly<Record<string, string>>, body: Buffer): Promise<WebhookAnswer>;
  /** Closes the kept-alive sockets. */
  close(): void;
}

export function webhookPoster(port: number, maxSockets: number): WebhookPoster {
  const agent = new Agent({ keepAlive: true, maxSockets });
  return {
    post: (path, headers, body) =>
      new Promise((resolve, reject) => {
        const req = request(
          { host: '127.0.0.1', port, path, method: 'POST', agent, headers: { 'content-type': 'application/json', ...headers, 'content-length': String(body.length) } },
          (res) => {
            const headersAt = Date.now();
            const parts: Buffer[] = [];
            res.on('data', (c: Buffer) => parts.push(c));
            res.on('error', reject);
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts), headersAt }));
          },
        );
        req.on('error', reject);
        req.end(body);
      }),
    close: () => agent.destroy(),
  };
}
