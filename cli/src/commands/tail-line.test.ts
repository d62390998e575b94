import { describe, expect, it } from 'vitest';
import { tailLine } from './tail-line.js';

describe('tailLine', () => {
  it('says when, where, result, who (and which account), what, and the client, on one line', () => {
    expect(
      tailLine({ time: '2026-03-10T09:30:00.000000Z', cluster: 'prod-eu-1', stage: 'ResponseComplete', namespace: 'web', resource: 'deployments', subresource: '', name: 'nginx', operation: 'delete', verb: 'delete', code: 200, who: 'Deng Wei', account: 'tke:100012347138', client: 'kubectl/v1.29.6' }),
    ).toBe('2026-03-10T09:30:00.000000Z  prod-eu-1  200  Deng Wei (tke:100012347138)  delete deployments web/nginx  kubectl/v1.29.6');
  });

  it("uses enrich's summary when the row has one, with the account and client", () => {
    expect(
      tailLine({ time: '2026-03-10T09:30:00.000000Z', cluster: 'prod-eu-1', stage: 'ResponseComplete', resource: 'deployments', verb: 'delete', code: 200, who: 'Deng Wei', account: 'tke:100012347138', client: 'kubectl/v1.29.6', summary: 'Deng Wei deleted Deployment web/nginx in prod-eu-1' }),
    ).toBe('2026-03-10T09:30:00.000000Z  200  Deng Wei deleted Deployment web/nginx in prod-eu-1  [tke:100012347138, kubectl/v1.29.6]');
  });

  it('names the operation class when it says more than the verb, the subresource, and a stage other than the last', () => {
    expect(
      tailLine({ time: 't', cluster: 'c', stage: 'ResponseStarted', namespace: 'payments', resource: 'pods', subresource: 'exec', name: 'api-0', operation: 'exec', verb: 'create', code: 101, who: 'Bob', account: 'user:bob', client: '' }),
    ).toBe('t  c  101  Bob (user:bob)  create pods/exec payments/api-0 [exec] (ResponseStarted)');
    expect(tailLine({ time: 't', cluster: 'c', resource: 'nodes', name: 'n1', operation: 'cordon', verb: 'patch', code: 200, who: '', username: 'system:admin', account: 'system:admin', client: 'kubectl' })).toBe(
      't  c  200  system:admin  patch nodes n1 [cordon]  kubectl',
    );
  });
});
