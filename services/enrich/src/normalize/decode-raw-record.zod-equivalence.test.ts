import { isDeepStrictEqual } from 'node:util';
import { auditEventSchema } from '@kaudit/audit-schema';
import { describe, expect, it } from 'vitest';
import { FIXTURE_WINDOW, fixtureNames, loadFixture, rawRecord } from '../fixtures/fixtures.js';
import { decodeRawRecord, RawDecodeError } from './decode-raw-record.js';

/**
 * checkAuditEvent takes a fast path for events zod would accept (issue 16); enrich must still decode
 * exactly what zod accepts, to the same event. Over every fixture, as is and with each of its fields
 * (top level and one level down) removed or replaced by a wrong-typed value.
 */
const REPLACEMENTS: unknown[] = [undefined, null, '', 'x', 0, 1000, -1, 1.5, true, [], ['a'], [1], {}, { a: 1 }, { a: ['b'] }, '2026-11-20T20:00:00Z', '2026-11-20 20:00:00Z'];

function mutations(event: Record<string, unknown>): { label: string; value: Record<string, unknown> }[] {
  const out: { label: string; value: Record<string, unknown> }[] = [];
  for (const [key, child] of Object.entries(event)) {
    for (const r of REPLACEMENTS) {
      const top = structuredClone(event);
      if (r === undefined) delete top[key];
      else top[key] = r;
      out.push({ label: `${key}=${JSON.stringify(r)}`, value: top });
    }
    if (typeof child !== 'object' || child === null || Array.isArray(child)) continue;
    for (const inner of Object.keys(child)) {
      for (const r of REPLACEMENTS) {
        const nested = structuredClone(event);
        const parent = nested[key] as Record<string, unknown>;
        if (r === undefined) delete parent[inner];
        else parent[inner] = r;
        out.push({ label: `${key}.${inner}=${JSON.stringify(r)}`, value: nested });
      }
    }
  }
  return out;
}

/** What decodeRawRecord makes of an event: its event, or that validation refused it. */
function decoded(event: unknown): { event: unknown } | 'refused' {
  try {
    return { event: decodeRawRecord(rawRecord(event), FIXTURE_WINDOW).event };
  } catch (err) {
    if (err instanceof RawDecodeError && err.stage === 'validate-event') return 'refused';
    throw err;
  }
}

describe('decodeRawRecord accepts exactly what the zod schema accepts, as zod parses it', () => {
  it.each(fixtureNames())('%s and its mutations', (name) => {
    const fixture = loadFixture(name);
    let refused = 0;
    for (const { label, value } of [{ label: 'as is', value: fixture }, ...mutations(fixture)]) {
      const zod = auditEventSchema.safeParse(JSON.parse(JSON.stringify(value)));
      const ours = decoded(value);
      if (!zod.success) {
        expect(ours, `${name} ${label}: zod refuses it`).toBe('refused');
        refused++;
        continue;
      }
      // zod accepts: ours is the same event, unless the time window (not zod's) refuses it.
      if (ours === 'refused') {
        expect(label, `${name}: only a time field may be refused beyond zod`).toMatch(/Timestamp|^timestamp/);
        continue;
      }
      expect(isDeepStrictEqual(ours.event, zod.data), `${name} ${label}: same event as zod's`).toBe(true);
    }
    expect(refused, 'mutations zod refuses were tried').toBeGreaterThan(10);
  });
});
