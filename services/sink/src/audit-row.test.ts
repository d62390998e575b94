import { describe, expect, it } from 'vitest';
import { sampleAuditRecord } from '@kaudit/audit-schema';
import { toAuditRow } from './audit-row.js';
import { formatMicros, formatMillis } from './format-micros.js';

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

  it('gives the text Date#toISOString gives, over leap days, century rules and DateTime64\'s whole range', () => {
    const viaDate = (us: number) => {
      const seconds = Math.floor(us / 1_000_000);
      return `${new Date(seconds * 1000).toISOString().slice(0, 19).replace('T', ' ')}.${String(us - seconds * 1_000_000).padStart(6, '0')}`;
    };
    const instants = ['1900-01-01T00:00:00Z', '1900-02-28T23:59:59Z', '1900-03-01T00:00:00Z', '2000-02-29T12:00:00Z', '2000-03-01T00:00:00Z', '2024-02-29T23:59:59Z', '2100-03-01T00:00:00Z', '2299-12-31T23:59:59Z', '1969-12-31T23:59:59Z'].map((s) => Date.parse(s) * 1000);
    let x = 12345;
    for (let i = 0; i < 5000; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      // Spread over 1900–2299, with every microsecond position.
      instants.push(Math.floor(-2_208_988_800_000_000 + (x / 2 ** 32) * 12_623_040_000_000_000) + (x % 1_000_000));
    }
    const wrong: string[] = [];
    for (const us of instants) {
      for (const d of [0, 1, 999_999, 100_000, 99_999]) if (formatMicros(us + d) !== viaDate(us + d)) wrong.push(`${us + d}: ${formatMicros(us + d)} != ${viaDate(us + d)}`);
    }
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(() => formatMillis('not a number')).toThrow(RangeError);
  });
});
