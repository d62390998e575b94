import { describe, expect, it } from 'vitest';
import { sampleAuditRecord } from '@kaudit/audit-schema';
import { toAuditRow } from './audit-row.js';
import { formatMicros } from './format-micros.js';

const at = { topic: 'kaudit.audit.enriched.v1', partition: 3, offset: '9007199254740993', timestamp: '1763800000123' };

describe('toAuditRow', () => {
  it('maps nulls to empty values, keeps microseconds and the source position', () => {
    const row = toAuditRow(
      sampleAuditRecord({ requestReceivedUs: 1_763_800_000_000_001, response: { code: null, status: null, reason: null, message: null } }),
      at,
    );
    expect(row).toMatchObject({
      event_time: '2025-11-22 08:26:40.000001',
      response_code: 0,
      response_status: '',
      object_subresource: '',
      impersonated: false,
      impersonated_user_name: '',
      actor_display_name: 'Alice Example',
      _topic: 'kaudit.audit.enriched.v1',
      _partition: 3,
      _offset: '9007199254740993',
      _timestamp: '2025-11-22 08:26:40.123000',
    });
  });

  it('keeps an impersonated user', () => {
    const row = toAuditRow(sampleAuditRecord({ impersonatedUser: { username: 'bob', uid: 'u1', groups: ['g'], extra: { k: 'v' } } }), at);
    expect(row).toMatchObject({ impersonated: true, impersonated_user_name: 'bob', impersonated_user_groups: ['g'], impersonated_user_extra: { k: 'v' } });
  });
});

describe('formatMicros', () => {
  it('formats whole seconds and pre-1970 instants', () => {
    expect(formatMicros(0)).toBe('1970-01-01 00:00:00.000000');
    expect(formatMicros(-1)).toBe('1969-12-31 23:59:59.999999');
  });
});
