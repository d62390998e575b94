import { describe, expect, it } from 'vitest';
import { DEFAULT_TOPIC_SPECS, TOPICS } from './topics.js';

function retentionMs(topic: string): number {
  const value = DEFAULT_TOPIC_SPECS.find((s) => s.topic === topic)?.configs?.['retention.ms'];
  if (value === undefined) throw new Error(`${topic} has no retention.ms`);
  return Number(value);
}

describe('default topic retention', () => {
  // DESIGN.md: the DLQ keeps raw bytes (Secret values included), so it must not outlive the raw topic.
  it('the DLQ, which keeps raw bytes, is no longer-lived than the raw topic', () => {
    expect(retentionMs(TOPICS.dlq)).toBeGreaterThan(0);
    expect(retentionMs(TOPICS.dlq)).toBeLessThanOrEqual(retentionMs(TOPICS.raw));
  });
});

describe('default topics for an upgrade', () => {
  // Enrich subscribes to both raw topics, the sink and alert to both enriched ones (upgrade safety, issue 16):
  // a topic missing from setup would leave a consumer subscribed to nothing there.
  it('makes both layouts of the raw and of the enriched topic, the new one the default', () => {
    const made = DEFAULT_TOPIC_SPECS.map((s) => s.topic);
    expect(made).toEqual(expect.arrayContaining([TOPICS.raw, TOPICS.rawV1, TOPICS.enriched, TOPICS.enrichedV1]));
    expect(TOPICS.enriched).toBe('kaudit.audit.enriched.v2');
    expect(TOPICS.enrichedV1).toBe('kaudit.audit.enriched.v1');
  });
});
