import { describe, expect, it } from 'vitest';
import { documentedEnv, serviceEnvDocsDrift } from './service-env-docs.js';

const doc = `# Services

### Every service

| env | default | |
| --- | --- | --- |
| \`KAFKA_BROKERS\` | — | |
| \`LOG_LEVEL\` | info | mentions \`NOT_A_ROW_NAME\` outside the first column |

### ingest

| env | default | |
| --- | --- | --- |
| \`HTTP_HOST\` / \`HTTP_PORT\` | | |
| \`OLD_NAME\` | | |

Prose naming \`IN_PROSE\` is not a table row.

### enrich

| \`ENRICH_ONLY\` | | |
`;

describe('serviceEnvDocsDrift', () => {
  it('reads the first column of the tables under the heading, up to the next heading', () => {
    expect([...documentedEnv(doc, 'ingest')]).toEqual(['HTTP_HOST', 'HTTP_PORT', 'OLD_NAME']);
    expect([...documentedEnv(doc, 'Every service')]).toEqual(['KAFKA_BROKERS', 'LOG_LEVEL']);
    expect([...documentedEnv(doc, 'sink')]).toEqual([]);
  });

  it('names what a config reads that no table lists, and what a table lists that the config does not read', () => {
    const env = { 'kafka.brokers': 'KAFKA_BROKERS', 'http.host': 'HTTP_HOST', 'http.port': 'HTTP_PORT', logLevel: 'LOG_LEVEL', x: 'NEW_NAME', y: 'IN_PROSE' };
    expect(serviceEnvDocsDrift('ingest', env, doc)).toEqual({ undocumented: ['IN_PROSE', 'NEW_NAME'], notRead: ['OLD_NAME'] });
  });
});
