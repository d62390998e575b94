import { describe, expect, it } from 'vitest';
import { formatImportSummary } from './import-command.js';

describe('formatImportSummary', () => {
  it('says what landed, what failed and where the failures went', () => {
    const text = formatImportSummary(
      'audit.log',
      { mode: 'lines', bytes: 3 * 1024 * 1024, records: 1002, accepted: 1000, events: 1001, rejected: 1, truncated: 2, failedRecords: 2, failures: [{ record: 3, reason: 'line is not JSON' }] },
      2,
    );
    expect(text).toContain('1000 events accepted (2 without request/response objects');
    expect(text).toContain('1 rejected; 1002 records, 3.0 MiB in 2.0 s (500 events/s)');
    expect(text).toContain('2 record(s) failed and were kept in kaudit.dlq.v1');
    expect(text).toContain('line 3: line is not JSON');
    expect(text).toContain('… and 1 more');
  });
});
