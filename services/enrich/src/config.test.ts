import { describe, expect, it } from 'vitest';
import { ConfigError } from '@kaudit/config';
import { TOPICS } from '@kaudit/kafka';
import { loadEnrichConfig } from './config.js';

describe('enrich config', () => {
  it('runs with only brokers: default topics, port 9101, no directories', () => {
    const c = loadEnrichConfig({ KAFKA_BROKERS: '127.0.0.1:9092' });
    expect(c.kafka).toMatchObject({ brokers: ['127.0.0.1:9092'], inputTopics: [TOPICS.raw, TOPICS.rawV1], outputTopic: TOPICS.enriched, dlqTopic: TOPICS.dlq });
    expect(c.http.port).toBe(9101);
    expect(c.directory.file).toBeUndefined();
    expect(c.httpDirectory.urlTemplate).toBeUndefined();
  });

  it('reads both raw layouts by default (an upgrade: enrich first, then ingest), or the comma-separated ENRICH_INPUT_TOPIC', () => {
    expect(loadEnrichConfig({ KAFKA_BROKERS: 'a:1', ENRICH_INPUT_TOPIC: 'mine' }).kafka.inputTopics).toEqual(['mine']);
    expect(loadEnrichConfig({ KAFKA_BROKERS: 'a:1', ENRICH_INPUT_TOPIC: 'a.v2, a.v1' }).kafka.inputTopics).toEqual(['a.v2', 'a.v1']);
    expect(() => loadEnrichConfig({ KAFKA_BROKERS: 'a:1', ENRICH_INPUT_TOPIC: ' , ' })).toThrow(ConfigError);
  });

  it('bounds what one fetch brings in by default (issue 16: memory), and takes the limits from the environment', () => {
    expect(loadEnrichConfig({ KAFKA_BROKERS: 'a:1' }).kafka).toMatchObject({ fetchMaxBytesPerPartition: 256 * 1024, fetchMaxBytes: 1024 * 1024 });
    const c = loadEnrichConfig({ KAFKA_BROKERS: 'a:1', ENRICH_FETCH_MAX_BYTES_PER_PARTITION: '65536', ENRICH_FETCH_MAX_BYTES: '262144' });
    expect(c.kafka).toMatchObject({ fetchMaxBytesPerPartition: 65_536, fetchMaxBytes: 262_144 });
  });

  it('parses per-cluster providers and keeps the directory token secret', () => {
    const c = loadEnrichConfig({
      KAFKA_BROKERS: 'a:1',
      ENRICH_CLUSTER_PROVIDERS: 'prod-eks=eks, gke-1=gke',
      ENRICH_HTTP_DIRECTORY_URL: 'https://people.example.com/api/identities/{id}',
      ENRICH_HTTP_DIRECTORY_TOKEN: 'dir-token-123',
    });
    expect(c.enrich.clusterProviders).toEqual({ 'prod-eks': 'eks', 'gke-1': 'gke' });
    expect(JSON.stringify(c)).not.toContain('dir-token-123');
  });

  it('lists every problem with its env var', () => {
    let err: unknown;
    try {
      loadEnrichConfig({ ENRICH_CLUSTER_PROVIDERS: 'x=openshift', HTTP_PORT: 'abc', ENRICH_HTTP_DIRECTORY_URL: 'not a url' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const envs = (err as ConfigError).problems.map((p) => p.env ?? p.path).sort();
    expect(envs).toEqual(expect.arrayContaining(['KAFKA_BROKERS', 'HTTP_PORT', 'ENRICH_HTTP_DIRECTORY_URL']));
    expect((err as ConfigError).problems.some((p) => p.path.startsWith('enrich.clusterProviders'))).toBe(true);
  });
});
