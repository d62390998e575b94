import { describe, expect, it } from 'vitest';
import { formatImportSummary } from './import-command.js';

describe('formatImportSummary', () => {
  it('says what landed, what failed and where the failures went', () => {
    const text = formatImportSummary(
      'audit.log',
      { mode: 'lines', bytes: 3 * 1024 * 1024, records: 1002, accepted: 1000, events: 1001, rejected: 1, tooOld: 0, tooNew: 0, truncated: 2, failedRecords: 2, failures: [{ record: 3, reason: 'line is not JSON' }] },
      2,
    );
    expect(text).toContain('1000 events accepted (2 without request/response objects');
    expect(text).toContain('1 rejected; 1002 records, 3.0 MiB in 2.0 s (500 events/s)');
    expect(text).toContain('2 record(s) failed and were kept in kaudit.dlq.v1');
    expect(text).toContain('line 3: line is not JSON');
    expect(text).toContain('… and 1 more');
  });

  it('counts the events outside the retention apart, and says what to do about them', () => {
    const text = formatImportSummary(
      'old.log',
      { mode: 'lines', bytes: 1024, records: 10, accepted: 6, events: 10, rejected: 4, tooOld: 3, tooNew: 1, truncated: 0, failedRecords: 4, failures: [] },
      1,
      { retentionDays: 365, maxFutureSkewMs: 900_000 },
    );
    expect(text).toContain('3 events older than the retention (KAUDIT_RETENTION_DAYS=365) were refused');
    expect(text).toContain('1 event more than 900000 ms ahead of this clock');
  });
});
