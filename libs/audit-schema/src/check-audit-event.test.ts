import { describe, expect, it } from 'vitest';
import { acceptedTimeRange, checkAuditEvent, RETENTION_HEADROOM_MS } from './check-audit-event.js';

const NOW = Date.parse('2026-12-01T10:00:00Z');
const DAY = 86_400_000;
const window = { retentionDays: 365, maxFutureSkewMs: 15 * 60_000 };
const rules = { window, referenceMs: NOW };
const iso = (ms: number) => new Date(ms).toISOString();

function event(at: string, stageAt = at): Record<string, unknown> {
  return {
    level: 'Metadata',
    auditID: '6f1c2a0e-1b7d-4c1e-9f3a-2d4b5c6d7e8f',
    stage: 'ResponseComplete',
    requestURI: '/api/v1/nodes/node-1',
    verb: 'get',
    user: { username: 'system:node:node-1' },
    requestReceivedTimestamp: at,
    stageTimestamp: stageAt,
  };
}

describe('checkAuditEvent', () => {
  it('accepts an event inside the window and gives its times in microseconds', () => {
    const checked = checkAuditEvent(event('2026-12-01T09:59:00.123456Z', '2026-12-01T09:59:00.200001Z'), rules);
    expect(checked).toMatchObject({ ok: true, requestReceivedUs: Date.parse('2026-12-01T09:59:00.123Z') * 1000 + 456, stageUs: Date.parse('2026-12-01T09:59:00.200Z') * 1000 + 1 });
  });

  // JSON.parse makes "__proto__" an own key; zod's copy of an object or record leaves it out, so the
  // event was accepted with the key gone — dropped silently. It is refused (and so dead-lettered whole).
  it.each([
    ['annotations', '{"annotations":{"__proto__":"x","a/b":"c"}}', 'annotations.__proto__'],
    ['user.extra', '{"user":{"username":"u","extra":{"__proto__":["x"]}}}', 'user.extra.__proto__'],
    ['the event itself', '{"__proto__":{"x":1}}', '__proto__'],
    ['objectRef', '{"objectRef":{"resource":"pods","__proto__":"x"}}', 'objectRef.__proto__'],
  ])('refuses a __proto__ key in %s, naming where, instead of dropping it', (_where, extra, path) => {
    // As the apiserver's JSON reaches JSON.parse: the later "user" / "objectRef" replaces the fixture's.
    const value = JSON.parse(`${JSON.stringify(event(iso(NOW))).slice(0, -1)},${extra.slice(1)}`) as unknown;
    const checked = checkAuditEvent(value, rules);
    expect(checked).toMatchObject({ ok: false, problem: 'invalid-event', reason: expect.stringContaining(path) as unknown });
  });

  it('keeps a __proto__ key inside request and response bodies, which are stored as they are', () => {
    const value = { ...event(iso(NOW)), requestObject: JSON.parse('{"__proto__":{"a":1},"kind":"Pod"}') as unknown };
    const checked = checkAuditEvent(value, rules);
    expect(checked.ok).toBe(true);
    expect(checked.ok && Object.hasOwn(checked.event.requestObject as object, '__proto__')).toBe(true);
  });

  it('refuses what the schema refuses', () => {
    const noVerb = event(iso(NOW));
    delete noVerb.verb;
    expect(checkAuditEvent(noVerb, rules)).toMatchObject({ ok: false, problem: 'invalid-event', reason: expect.stringContaining('verb') as unknown });
    expect(checkAuditEvent([1], rules)).toMatchObject({ ok: false, problem: 'invalid-event' });
    // Stored as an Avro int and a ClickHouse UInt16: what does not fit is refused here, not after the 200.
    for (const code of [5_000_000_000, 70_000, -1]) {
      expect(checkAuditEvent({ ...event(iso(NOW)), responseStatus: { code } }, rules), String(code)).toMatchObject({ ok: false, problem: 'invalid-event', reason: expect.stringContaining('responseStatus.code') as unknown });
    }
  });

  it.each([
    ['a calendar-invalid request time', event('2024-13-45T25:61:61Z'), 'invalid-time', /requestReceivedTimestamp: .*month 13/],
    ['a stage time on a day that does not exist', event(iso(NOW), '2026-02-30T00:00:00Z'), 'invalid-time', /stageTimestamp: .*day 30/],
    ['a 1970 time', event('1970-01-01T00:00:01Z'), 'too-old', /KAUDIT_RETENTION_DAYS=365/],
    ['a time just past the retention', event(iso(NOW - 365 * DAY - 60_000)), 'too-old', /delete it on arrival/],
    ['a time inside the retention but within the headroom', event(iso(NOW - 365 * DAY + RETENTION_HEADROOM_MS - 1000)), 'too-old', /older than/],
    ['a year-3000 time', event('3000-01-01T00:00:00Z'), 'too-new', /KAUDIT_MAX_FUTURE_SKEW_MS/],
    ['a recent request with a year-3000 stage time', event(iso(NOW), '3000-01-01T00:00:00Z'), 'too-new', /stageTimestamp/],
  ])('refuses %s, naming the field and the rule', (_name, value, problem, reason) => {
    const checked = checkAuditEvent(value, rules);
    expect(checked).toMatchObject({ ok: false, problem });
    if (!checked.ok) expect(checked.reason).toMatch(reason);
  });

  it('has the window edges where the rules say', () => {
    const { oldestMs, newestMs } = acceptedTimeRange(window, NOW);
    expect(checkAuditEvent(event(iso(oldestMs)), rules).ok).toBe(true);
    expect(checkAuditEvent(event(iso(oldestMs - 1)), rules).ok).toBe(false);
    expect(checkAuditEvent(event(iso(newestMs)), rules).ok).toBe(true);
    expect(checkAuditEvent(event(iso(newestMs + 1)), rules).ok).toBe(false);
  });
});

describe('refusal reasons', () => {
  it('never carry a value from the body, and cut long keys', () => {
    const marker = 'hunter2-s3cr3t-value';
    const value = { ...event(iso(NOW)), verb: 42, stage: marker, annotations: { [`k-${'x'.repeat(200)}`]: { nested: marker } }, user: { username: marker, groups: marker } };
    const checked = checkAuditEvent(value, rules);
    expect(checked.ok).toBe(false);
    if (checked.ok) return;
    expect(checked.reason).toMatch(/verb/);
    expect(checked.reason).not.toContain(marker);
    expect(checked.reason).not.toContain('x'.repeat(65));
  });
});
