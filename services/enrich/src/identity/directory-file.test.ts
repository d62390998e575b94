import { mkdtempSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isKauditError } from '@kaudit/errors';
import { DirectoryFile } from './directory-file.js';
import { recordingTelemetry } from './recording-telemetry.js';

const dirs: string[] = [];
const files: DirectoryFile[] = [];
afterEach(async () => {
  for (const f of files.splice(0)) await f.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'kaudit-directory-'));
  dirs.push(d);
  return d;
}

describe('DirectoryFile', () => {
  it('reloads when the file changes (also when replaced by rename), and keeps the last good version on a broken edit', async () => {
    const dir = tempDir();
    const path = join(dir, 'directory.yaml');
    writeFileSync(path, 'identities:\n  - id: user:alice\n    team: web\n');
    const telemetry = recordingTelemetry();
    const file = new DirectoryFile({ path, telemetry });
    files.push(file);
    await file.start();
    expect(file.index.lookup(['user:alice'])?.team).toBe('web');

    writeFileSync(path, 'identities:\n  - id: user:alice\n    team: platform\n');
    await vi.waitFor(() => expect(file.index.lookup(['user:alice'])?.team).toBe('platform'), { timeout: 10_000, interval: 50 });

    // ConfigMap mounts and many editors replace the file atomically.
    writeFileSync(join(dir, 'next.yaml'), 'identities:\n  - id: user:alice\n    team: sre\n');
    renameSync(join(dir, 'next.yaml'), path);
    await vi.waitFor(() => expect(file.index.lookup(['user:alice'])?.team).toBe('sre'), { timeout: 10_000, interval: 50 });

    writeFileSync(path, 'identities:\n  - kind: robot\n');
    await vi.waitFor(() => expect(telemetry.events.map((e) => e.event)).toContain('directory_reload_failed'), { timeout: 10_000, interval: 50 });
    expect(file.index.lookup(['user:alice'])?.team).toBe('sre');
  });

  it('fails to start on a missing or invalid file (a config error, not a silent empty directory)', async () => {
    const dir = tempDir();
    const missing = new DirectoryFile({ path: join(dir, 'nope.yaml'), telemetry: recordingTelemetry() });
    await expect(missing.start()).rejects.toSatisfy((e: unknown) => isKauditError(e, 'CONFIG_INVALID'));
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'id,team,kind\nx,y,robot\n');
    await expect(new DirectoryFile({ path: bad, telemetry: recordingTelemetry() }).start()).rejects.toThrowError(/bad\.csv is invalid/);
  });
});
