import { describe, expect, it } from 'vitest';
import { serviceEnvDocsDrift } from '@kaudit/testkit';
import { ALERT_ENV } from './config.js';

describe('alert environment docs', () => {
  it('docs/services.md lists every variable the alert config reads, and none it does not', () => {
    expect(serviceEnvDocsDrift('alert', ALERT_ENV)).toEqual({ undocumented: [], notRead: [] });
  });
});
