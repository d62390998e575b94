import { describe, expect, it } from 'vitest';
import { isKauditError } from '@kaudit/errors';
import { parseObjectArg } from './ask-queries.js';
import { renderTable } from './ask-table.js';
import { parseTimeArg, resolveTimeRange, toClickHouseTime } from './ask-time-range.js';

const now = new Date('2026-03-10T12:00:00.000Z');

describe('time range options', () => {
  it('reads durations before now and ISO times', () => {
    expect(parseTimeArg('90m', now, '--since').toISOString()).toBe('2026-03-10T10:30:00.000Z');
    expect(parseTimeArg('7d', now, '--since').toISOString()).toBe('2026-03-03T12:00:00.000Z');
    expect(parseTimeArg('2026-03-01T00:00:00Z', now, '--since').toISOString()).toBe('2026-03-01T00:00:00.000Z');
    expect(toClickHouseTime(now)).toBe('2026-03-10 12:00:00.000000');
  });
  it('names the option when a value is wrong or the range is empty', () => {
    const bad = (() => { try { parseTimeArg('yesterday-ish', now, '--until'); } catch (e) { return e; } })();
    expect(isKauditError(bad, 'CONFIG_INVALID') && (bad as Error).message).toContain('--until');
    expect(() => resolveTimeRange({ since: '1h', until: '2h' }, now, '1h')).toThrow(/must be before/);
    expect(resolveTimeRange({}, now, '1h')).toEqual({ since: new Date('2026-03-10T11:00:00Z'), until: now });
  });
});

describe('parseObjectArg', () => {
  it('accepts kubectl short names, singulars and group-qualified kinds', () => {
    expect(parseObjectArg('deploy/nginx')).toEqual({ resource: 'deployments', name: 'nginx' });
    expect(parseObjectArg('Deployment/nginx')).toEqual({ resource: 'deployments', name: 'nginx' });
    expect(parseObjectArg('deployments.apps/nginx')).toEqual({ resource: 'deployments', name: 'nginx' });
    expect(parseObjectArg('networkpolicy/deny-all')).toEqual({ resource: 'networkpolicies', name: 'deny-all' });
    expect(parseObjectArg('nginx')).toBeUndefined();
  });
});

describe('renderTable', () => {
  it('aligns columns, joins arrays, keeps one line per row', () => {
    expect(renderTable([{ who: 'Bob', ips: ['10.0.0.1', '10.0.0.2'] }, { who: 'Alice Example', ips: [] }, { who: 'x\ny', ips: [] }])).toBe(
      ['WHO            IPS', 'Bob            10.0.0.1, 10.0.0.2', 'Alice Example', 'x y'].join('\n'),
    );
    expect(renderTable([])).toBe('(no rows)');
  });
});
