import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const dockerfile = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
const lines = dockerfile.split('\n').filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
const finalStage = lines.slice(lines.map((l) => l.startsWith('FROM ')).lastIndexOf(true));

/** .dockerignore patterns as regular expressions over context paths (the subset of the syntax we use). */
const ignored = readFileSync(join(REPO, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'))
  .map((p) => new RegExp(`^${p.replace(/\./g, '\\.').replace(/\*\*\//g, '\u0000').replace(/\*/g, '[^/]*').replace(/\u0000/g, '(?:.*/)?')}(?:/.*)?$`));

describe('Dockerfile', () => {
  it('sends the build every file it needs: lockfile, manifests, build and staging scripts, runtime files', () => {
    const needed = ['package.json', 'package-lock.json', '.npmrc', 'tsconfig.json', 'tsconfig.base.json', 'scripts/stage-image.mjs', 'migrations/clickhouse', 'rules', 'services/ingest/src/main.ts', 'cli/bin/kaudit.mjs'];
    for (const path of needed) {
      expect(existsSync(join(REPO, path)), path).toBe(true);
      expect(ignored.filter((re) => re.test(path)).map(String), path).toEqual([]);
    }
    for (const local of ['node_modules', 'services/ingest/dist', '.kaudit', '.git']) expect(ignored.some((re) => re.test(local)), local).toBe(true);
  });

  it('installs exactly the lockfile (npm ci), never npm install', () => {
    expect(dockerfile).toMatch(/npm ci --no-audit/);
    expect(dockerfile).toMatch(/npm ci --omit=dev --omit=optional/);
    expect(lines.filter((l) => /npm (install|i) /.test(l))).toEqual([]);
  });

  it('runs compiled JavaScript as a non-root user from root-owned files', () => {
    expect(finalStage.some((l) => /^USER (node|\d*[1-9]\d*)\b/.test(l))).toBe(true);
    expect(finalStage.filter((l) => l.includes('--chown'))).toEqual([]);
    expect(finalStage.join('\n')).not.toMatch(/tsx/);
    expect(finalStage.find((l) => l.startsWith('CMD'))).toMatch(/dist\/main\.js/);
  });
});
