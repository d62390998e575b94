import { describe, expect, it } from 'vitest';
import { serviceEnvDocsDrift } from '@kaudit/testkit';
import { ENRICH_ENV } from './config.js';

describe('enrich environment docs', () => {
  it('docs/services.md lists every variable the enrich config reads, and none it does not', () => {
    expect(serviceEnvDocsDrift('enrich', ENRICH_ENV)).toEqual({ undocumented: [], notRead: [] });
  });
});
