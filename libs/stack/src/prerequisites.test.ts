import { describe, expect, it } from 'vitest';
import { isKauditError } from '@kaudit/errors';
import { parseJavaVersion, requireClickHousePlatform } from './prerequisites.js';

describe('prerequisites', () => {
  it('parses java -version output of old and new JDKs', () => {
    expect(parseJavaVersion('openjdk version "17.0.15" 2025-04-15')).toBe(17);
    expect(parseJavaVersion('java version "1.8.0_381"')).toBe(8);
    expect(parseJavaVersion('nothing')).toBeUndefined();
  });
  it('names the alternatives when the platform cannot run the bundled ClickHouse', () => {
    let err: unknown;
    try {
      requireClickHousePlatform('darwin', 'arm64');
    } catch (e) {
      err = e;
    }
    expect(isKauditError(err, 'STACK_PREREQUISITE')).toBe(true);
    expect((err as Error).message).toContain('CLICKHOUSE_URL');
    expect((err as Error).message).toContain('docker compose');
    expect(() => requireClickHousePlatform('linux', 'x64')).not.toThrow();
  });
});
