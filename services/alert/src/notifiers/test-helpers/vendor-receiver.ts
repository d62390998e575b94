import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { z } from 'zod';

export interface ReceivedRequest {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  json: unknown;
}

export interface ReceiverBehaviour {
  /** Status (and headers) for the n-th request (0-based); default 200. */
  respond?: (n: number) => { status: number; headers?: Record<string, string>; body?: string };
  /** Requests whose body fails this schema get 400, as the vendor would answer. */
  schema?: z.ZodType;
  /** Extra check (e.g. an auth header); a string is the 4xx reason. */
  check?: (req: ReceivedRequest) => string | undefined;
}

/** A real HTTP server on a free port standing in for a vendor endpoint; records what it accepted. */
export class VendorReceiver {
  readonly accepted: ReceivedRequest[] = [];
  readonly rejected: { req: ReceivedRequest; reason: string }[] = [];
  /** Arrival times (ms) of every request, accepted or not. */
  readonly arrivals: number[] = [];
  readonly #server: Server;
  #n = 0;
  #waiters: { count: number; resolve: () => void }[] = [];

  constructor(behaviour: ReceiverBehaviour = {}) {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.arrivals.push(Date.now());
        const body = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          json = undefined;
        }
        const received: ReceivedRequest = { path: req.url ?? '/', headers: req.headers, body, json };
        const n = this.#n++;
        const planned = behaviour.respond?.(n) ?? { status: 200 };
        if (planned.status >= 300) {
          res.writeHead(planned.status, planned.headers).end(planned.body ?? '');
          return;
        }
        const parsed = behaviour.schema?.safeParse(json);
        const reason = parsed && !parsed.success ? parsed.error.message : behaviour.check?.(received);
        if (reason !== undefined) {
          this.rejected.push({ req: received, reason });
          res.writeHead(400).end(reason);
          return;
        }
        this.accepted.push(received);
        res.writeHead(planned.status, planned.headers).end(planned.body ?? 'ok');
        for (const w of this.#waiters.filter((w) => this.accepted.length >= w.count)) w.resolve();
        this.#waiters = this.#waiters.filter((w) => this.accepted.length < w.count);
      });
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Resolves once `count` requests were accepted. */
  waitFor(count: number): Promise<void> {
    if (this.accepted.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
