import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@kaudit/logging';
import { Writable } from 'node:stream';
import { buildProgram } from '../build-program.js';
import { repoPaths } from '../repo-paths.js';

async function run(args: string[]): Promise<{ out: string; code: number }> {
  const lines: string[] = [];
  let code = 0;
  const logger = createLogger({ service: 'test', level: 'silent', destination: new Writable({ write: (_c, _e, done) => done() }) });
  const program = buildProgram({ env: {}, paths: repoPaths(), logger, out: (t) => lines.push(t), setExitCode: (c) => (code = c) });
  await program.parseAsync(['node', 'kaudit', ...args]);
  return { out: lines.join('\n'), code };
}

describe('kaudit rules', () => {
  it('lints and tests the bundled pack cleanly', async () => {
    const lint = await run(['rules', 'lint']);
    expect(lint.code).toBe(0);
    expect(lint.out).toMatch(/^\d+ rule\(s\) OK$/);
    const test = await run(['rules', 'test']);
    expect(test.code).toBe(0);
    expect(test.out).toContain('PASS  forbidden-storm');
  });

  it('exits non-zero with file:line problems and per-rule failures', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kaudit-rules-'));
    writeFileSync(join(dir, 'bad.yaml'), 'rules:\n  - id: x\n    name: x\n    severity: loud\n    output: x\n    match: { field: verb, equals: get }\n');
    const lint = await run(['rules', 'lint', dir]);
    expect(lint.code).toBe(1);
    expect(lint.out).toContain(`${join(dir, 'bad.yaml')}:4:15: rules.0.severity`);

    const failing = mkdtempSync(join(tmpdir(), 'kaudit-rules-'));
    writeFileSync(
      join(failing, 'r.yaml'),
      'rules:\n  - id: x\n    name: x\n    severity: low\n    output: x\n    match: { field: verb, equals: get }\n    tests:\n      - { name: wrong, expect: 0, events: [{ record: { verb: get } }] }\n',
    );
    const test = await run(['rules', 'test', failing]);
    expect(test.code).toBe(1);
    expect(test.out).toContain('FAIL  x');
    expect(test.out).toContain('0/1 rule(s) passed');
  });
});
