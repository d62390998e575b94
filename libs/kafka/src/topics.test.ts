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
