import { describe, expect, it } from 'vitest';
import { serviceEnvDocsDrift } from '@kaudit/testkit';
import { INGEST_ENV } from './config.js';

describe('ingest environment docs', () => {
  it('docs/services.md lists every variable the ingest config reads, and none it does not', () => {
    expect(serviceEnvDocsDrift('ingest', INGEST_ENV)).toEqual({ undocumented: [], notRead: [] });
  });
});
