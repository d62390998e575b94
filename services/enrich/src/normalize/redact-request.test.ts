import { describe, expect, it } from 'vitest';
import { parseRequestURI, sensitiveItemKindOfList, sensitiveKindOfBody, sensitiveKindsOf } from './redact-request.js';

describe('parseRequestURI', () => {
  it.each([
    ['/api/v1/namespaces/payments/secrets/db', 'secrets', null],
    ['/api/v1/namespaces/payments/secrets/db/status?timeout=10s', 'secrets', 'status'],
    ['/api/v1/secrets?limit=500', 'secrets', null],
    ['/api/v1/watch/namespaces/payments/configmaps', 'configmaps', null],
    ['/apis/authentication.k8s.io/v1/tokenreviews', 'tokenreviews', null],
    ['/api/v1/namespaces/ci/serviceaccounts/deployer/token', 'serviceaccounts', 'token'],
    ['/api/v1/namespaces/payments', 'namespaces', null],
    ['/api/v1/namespaces/payments/finalize', 'namespaces', 'finalize'],
    ['/apis/apps/v1/namespaces/web/deployments/api/scale', 'deployments', 'scale'],
    ['/healthz', null, null],
    ['/api', null, null],
  ])('%s → %s/%s', (uri, resource, subresource) => {
    expect(parseRequestURI(uri)).toEqual({ resource, subresource });
  });
});

describe('sensitiveKindsOf: the request decides', () => {
  it('every subresource of secrets and configmaps, the token subresource of serviceaccounts', () => {
    expect([...sensitiveKindsOf({ resource: 'secrets', subresource: 'status' })]).toEqual(['Secret']);
    expect([...sensitiveKindsOf({ resource: 'configmaps', subresource: null })]).toEqual(['ConfigMap']);
    expect([...sensitiveKindsOf({ resource: 'tokenreviews', subresource: null })]).toEqual(['TokenReview']);
    expect([...sensitiveKindsOf({ resource: 'serviceaccounts', subresource: 'token' })]).toEqual(['TokenRequest']);
    expect(sensitiveKindsOf({ resource: 'serviceaccounts', subresource: null }).size).toBe(0);
    expect(sensitiveKindsOf({ resource: 'deployments', subresource: null }).size).toBe(0);
  });

  it('the requestURI counts when objectRef is absent, and as well as objectRef when both are there', () => {
    expect([...sensitiveKindsOf({ resource: null, subresource: null, requestURI: '/api/v1/namespaces/p/secrets/db' })]).toEqual(['Secret']);
    expect([...sensitiveKindsOf({ resource: 'deployments', subresource: null, requestURI: '/api/v1/namespaces/p/configmaps/c' })]).toEqual(['ConfigMap']);
  });
});

describe('what a body says of itself (it can only add)', () => {
  it('kind in any case, typed lists', () => {
    expect(sensitiveKindOfBody('secret')).toBe('Secret');
    expect(sensitiveKindOfBody('CONFIGMAP')).toBe('ConfigMap');
    expect(sensitiveKindOfBody('Foo')).toBeUndefined();
    expect(sensitiveItemKindOfList('SecretList')).toBe('Secret');
    expect(sensitiveItemKindOfList('List')).toBeUndefined();
  });
});
