/**
 * Guarantee (DESIGN.md): no Secret, ConfigMap or token value leaves the raw topic — proven over
 * generated events, not a sample of fixtures. Every credential kind × every container an apiserver
 * logs (see fixtures/secret-bearing-events.ts) × what the body claims its kind is; the assertion
 * is on the bytes enrich produces (Kafka key, Avro value, headers), in every encoding of the marker.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findLeaks, testEnricher } from './fixtures/leak-check.js';
import { rawRecord } from './fixtures/fixtures.js';
import { CONTAINERS, secretBearingCaseArb } from './fixtures/secret-bearing-events.js';

/** Fixed, so a failure reproduces; fast-check prints the counterexample and its path. */
const SEED = 20261130;
const RUNS = 3000;
const LEAK_STUB = '{"kauditRedacted":"[redacted]"}';

describe('no credential value leaves the raw topic (property)', () => {
  it(`${RUNS} generated events: no marker in the enriched record's bytes`, async () => {
    const { enricher } = testEnricher();
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(secretBearingCaseArb, async ({ event, markers, label }) => {
        seen.add(label.split(',')[0] ?? '');
        // Non-vacuous: every marker really is in what ingest wrote.
        const raw = Buffer.from(JSON.stringify(event));
        for (const marker of markers) expect(findLeaks(raw, [marker]), `${label}: marker not planted`).not.toEqual([]);
        const outcome = await enricher.enrich(rawRecord(event));
        if (!outcome.ok) throw outcome.error;
        const bytes = Buffer.concat([Buffer.from(String(outcome.out.key)), outcome.out.value as Buffer, ...Object.values(outcome.out.headers ?? {}).map((h) => Buffer.from(String(h)))]);
        const leaks = findLeaks(bytes, markers);
        expect(leaks, `${label}\nrecord: ${JSON.stringify(outcome.record)}`).toEqual([]);
        // And the redactor did it by its rules: the final leak check never had to blank an object
        // (it is the safety net; relying on it would lose what the object says).
        expect([outcome.record.requestObject, outcome.record.responseObject], `${label}: blanked by the leak check`).not.toContain(LEAK_STUB);
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    // Every container was exercised for every kind that has it (a generator bug would hide a shape).
    for (const container of CONTAINERS) expect([...seen].some((l) => l.endsWith(` in ${container}`)), container).toBe(true);
  }, 60_000);
});
