import { describe, expect, it } from 'vitest';
import { serviceEnvDocsDrift } from '@kaudit/testkit';
import { SINK_ENV } from './config.js';

describe('sink environment docs', () => {
  it('docs/services.md lists every variable the sink config reads, and none it does not', () => {
    expect(serviceEnvDocsDrift('sink', SINK_ENV)).toEqual({ undocumented: [], notRead: [] });
  });
});
