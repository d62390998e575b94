import { describe, expect, it } from 'vitest';
import { KauditError, isKauditError } from './kaudit-error.js';

describe('KauditError', () => {
  it('carries code, retryable default by code, and cause', () => {
    const cause = new Error('ECONNREFUSED');
    const err = new KauditError('KAFKA_UNAVAILABLE', 'broker down', { cause });
    expect(err.code).toBe('KAFKA_UNAVAILABLE');
    expect(err.retryable).toBe(true);
    expect(err.cause).toBe(cause);
    expect(new KauditError('INPUT_INVALID', 'bad').retryable).toBe(false);
    expect(new KauditError('INPUT_INVALID', 'bad', { retryable: true }).retryable).toBe(true);
  });

  it('is recognised by code, not message', () => {
    const err = new KauditError('NOT_FOUND', 'no such cluster', { details: { cluster: 'x' } });
    expect(isKauditError(err, 'NOT_FOUND')).toBe(true);
    expect(isKauditError(err, 'FORBIDDEN')).toBe(false);
    expect(isKauditError(new Error('NOT_FOUND'))).toBe(false);
    expect(JSON.parse(JSON.stringify(err))).toEqual({ code: 'NOT_FOUND', message: 'no such cluster', retryable: false, cluster: 'x' });
  });
});
