import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DirectoryIndex } from './directory.js';
import { HttpDirectory, type HttpDirectoryOptions } from './http-directory.js';
import { IdentityResolver } from './identity-resolver.js';
import { recordingTelemetry } from './recording-telemetry.js';

type Mode = 'ok' | 'slow' | 'error' | 'invalid';

/** A real people directory on a free port whose behaviour the test switches. */
class FakeDirectory {
  mode: Mode = 'ok';
  requests: string[] = [];
  readonly server: Server;
  readonly #pending = new Set<ServerResponse>();

  constructor() {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => this.#handle(req, res));
  }

  async listen(port = 0): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const res of this.#pending) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    this.requests.push(req.url ?? '');
    const id = decodeURIComponent((req.url ?? '').replace('/identities/', ''));
    if (this.mode === 'slow') {
      // Never answers in time; the socket is destroyed when the test closes the server.
      this.#pending.add(res);
      return;
    }
    if (this.mode === 'error') {
      res.writeHead(503).end('maintenance');
      return;
    }
    if (this.mode === 'invalid') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ displayName: 42 }));
      return;
    }
    if (id === 'user:alice@example.com') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ displayName: 'Alice Example', email: 'alice@example.com', team: 'web', manager: 'ignored' }));
      return;
    }
    res.writeHead(404).end();
  }
}

const servers: FakeDirectory[] = [];
const directories: HttpDirectory[] = [];
afterEach(async () => {
  for (const d of directories.splice(0)) await d.stop();
  for (const s of servers.splice(0)) await s.close();
});

async function setup(overrides: Partial<HttpDirectoryOptions> = {}): Promise<{ fake: FakeDirectory; directory: HttpDirectory; port: number; telemetry: ReturnType<typeof recordingTelemetry> }> {
  const fake = new FakeDirectory();
  servers.push(fake);
  const port = await fake.listen();
  const telemetry = recordingTelemetry();
  const directory = new HttpDirectory({
    urlTemplate: `http://127.0.0.1:${port}/identities/{id}`,
    // Generous: on a loaded 2-core CI machine a first local answer took over 150 ms and the lookup came back
    // 'unavailable'. Only the test of a directory that never answers needs a short timeout, and sets it.
    timeoutMs: 2_000,
    ttlMs: 60_000,
    negativeTtlMs: 60_000,
    maxEntries: 100,
    errorThresholdPercentage: 50,
    volumeThreshold: 3,
    resetTimeoutMs: 300,
    telemetry,
    ...overrides,
  });
  directories.push(directory);
  await directory.start();
  return { fake, directory, port, telemetry };
}

const alice = { id: 'user:alice@example.com', username: 'alice@example.com' };

describe('HttpDirectory', () => {
  it('answers from the directory, validates with zod, and caches hits and misses', async () => {
    const { fake, directory } = await setup();
    expect(await directory.lookup(alice)).toEqual({ status: 'found', entry: { displayName: 'Alice Example', email: 'alice@example.com', team: 'web', kind: undefined } });
    expect(await directory.lookup({ id: 'user:nobody', username: 'nobody' })).toEqual({ status: 'not-found' });
    const before = fake.requests.length;
    await Promise.all([directory.lookup(alice), directory.lookup(alice), directory.lookup({ id: 'user:nobody', username: 'nobody' })]);
    expect(fake.requests.length).toBe(before);
    expect(fake.requests[0]).toBe('/identities/user%3Aalice%40example.com');
  });

  it('one request per key even when many events ask at once', async () => {
    const { fake, directory } = await setup();
    const answers = await Promise.all(Array.from({ length: 20 }, () => directory.lookup(alice)));
    expect(answers.every((a) => a.status === 'found')).toBe(true);
    expect(fake.requests.length).toBe(1);
  });

  it('an invalid answer is unavailable, not a crash', async () => {
    const { fake, directory } = await setup();
    fake.mode = 'invalid';
    expect((await directory.lookup(alice)).status).toBe('unavailable');
  });

  it('slow directory: lookups give up, the breaker opens and stops calling it, then it recovers', async () => {
    const { fake, directory, telemetry } = await setup({ timeoutMs: 150 });
    const resolver = new IdentityResolver({ directory: () => DirectoryIndex.empty(), remote: directory });
    fake.mode = 'slow';
    for (let i = 0; i < 4; i++) {
      // Events keep flowing: each identity comes back unresolved instead of waiting on the directory.
      const actor = await resolver.resolve({ username: `user${i}@example.com`, groups: [], extra: {} });
      expect(actor).toMatchObject({ id: `user:user${i}@example.com`, resolvedBy: 'unresolved' });
    }
    expect(directory.isOpen).toBe(true);
    expect(telemetry.events.map((e) => e.event)).toContain('http_directory_breaker_open');
    const seen = fake.requests.length;
    expect((await directory.lookup(alice)).status).toBe('unavailable');
    expect(fake.requests.length).toBe(seen); // open breaker: the directory is left alone

    fake.mode = 'ok';
    await vi.waitFor(async () => expect((await directory.lookup(alice)).status).toBe('found'), { timeout: 10_000, interval: 100 });
    expect(directory.isOpen).toBe(false);
    expect(await resolver.resolve({ username: 'alice@example.com', groups: [], extra: {} })).toMatchObject({ displayName: 'Alice Example', team: 'web', resolvedBy: 'http-directory' });
  });

  it('directory down (connection refused / 503) then back on the same port', async () => {
    const { fake, directory, port } = await setup();
    fake.mode = 'error';
    expect((await directory.lookup({ id: 'user:a', username: 'a' })).status).toBe('unavailable');
    await fake.close();
    servers.splice(servers.indexOf(fake), 1);
    for (const id of ['user:b', 'user:c', 'user:d']) expect((await directory.lookup({ id, username: id })).status).toBe('unavailable');
    expect(directory.isOpen).toBe(true);

    const back = new FakeDirectory();
    servers.push(back);
    await back.listen(port);
    await vi.waitFor(async () => expect((await directory.lookup(alice)).status).toBe('found'), { timeout: 10_000, interval: 100 });
  });
});

describe('IdentityResolver order', () => {
  it('directory file wins over the HTTP directory; service accounts never go remote', async () => {
    const { fake, directory } = await setup();
    const { parseDirectory } = await import('./directory.js');
    const file = parseDirectory('identities:\n  - id: user:alice@example.com\n    team: from-file\n  - pattern: "sa:payments:*"\n    team: payments\n', 'yaml', 't');
    const resolver = new IdentityResolver({ directory: () => file, remote: directory });
    expect(await resolver.resolve({ username: 'alice@example.com', groups: [], extra: {} })).toMatchObject({ team: 'from-file', resolvedBy: 'directory-file' });
    expect(await resolver.resolve({ username: 'system:serviceaccount:payments:api', groups: [], extra: {} })).toMatchObject({ team: 'payments', resolvedBy: 'directory-file' });
    expect(await resolver.resolve({ username: 'system:serviceaccount:web:api', groups: [], extra: {} })).toMatchObject({ team: null, resolvedBy: 'builtin' });
    expect(fake.requests).toEqual([]);
  });
});
