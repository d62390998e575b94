import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { EnrichMetrics } from './enrich-metrics.js';

describe('EnrichMetrics.identityResolved', () => {
  it('shows every identity counted so far in kaudit_enrich_identities_total when the registry is read, and each only once', async () => {
    const registry = new Registry();
    const metrics = new EnrichMetrics(registry);
    for (let i = 0; i < 3; i++) metrics.identityResolved('builtin', 'skipped');
    metrics.identityResolved('http-directory', 'found');
    let text = await registry.metrics();
    expect(text).toMatch(/kaudit_enrich_identities_total\{resolved_by="builtin",remote="skipped"\} 3\n/);
    expect(text).toMatch(/kaudit_enrich_identities_total\{resolved_by="http-directory",remote="found"\} 1\n/);
    // Read again with nothing new: the same totals (the tally was moved into the counter, not added twice).
    metrics.identityResolved('builtin', 'skipped');
    text = await registry.metrics();
    expect(text).toMatch(/kaudit_enrich_identities_total\{resolved_by="builtin",remote="skipped"\} 4\n/);
    text = await registry.metrics();
    expect(text).toMatch(/kaudit_enrich_identities_total\{resolved_by="builtin",remote="skipped"\} 4\n/);
    expect(text).toMatch(/kaudit_enrich_identities_total\{resolved_by="http-directory",remote="found"\} 1\n/);
  });
});
