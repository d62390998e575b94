import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { loadEventWindow, RETENTION_DAYS_MAX } from './event-window.js';

describe('the event window (KAUDIT_RETENTION_DAYS, KAUDIT_MAX_FUTURE_SKEW_MS)', () => {
  it('defaults to a year of retention and 15 minutes of clock skew', () => {
    expect(loadEventWindow({})).toEqual({ retentionDays: 365, maxFutureSkewMs: 900_000 });
    expect(loadEventWindow({ KAUDIT_RETENTION_DAYS: '30', KAUDIT_MAX_FUTURE_SKEW_MS: '0' })).toEqual({ retentionDays: 30, maxFutureSkewMs: 0 });
  });

  it.each(['0', '1', '-5', '2.5', 'forever', String(RETENTION_DAYS_MAX + 1), '100000'])('refuses KAUDIT_RETENTION_DAYS=%s with an error naming it', (value) => {
    let error: unknown;
    try {
      loadEventWindow({ KAUDIT_RETENTION_DAYS: value }, 'setup');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(/eventWindow\.retentionDays \(KAUDIT_RETENTION_DAYS\)/);
  });

  it('says why the ceiling is where it is', () => {
    expect(() => loadEventWindow({ KAUDIT_RETENTION_DAYS: '40000' })).toThrowError(/at most 10000 days .*2106/);
  });
});
