import { describe, expect, it } from 'vitest';
import { sampleAuditRecord, type AuditRecord } from '@kaudit/audit-schema';
import { summarizeEvent } from './summarize-event.js';

const deng = { ...sampleAuditRecord().actor, id: 'tke:100012347138', displayName: 'Deng Wei' };
const ref = (over: Partial<AuditRecord['objectRef']>): AuditRecord['objectRef'] => ({ apiGroup: 'apps', apiVersion: 'v1', resource: 'deployments', subresource: null, namespace: 'web', name: 'nginx', uid: null, ...over });
const ok = { code: 200, status: null, reason: null, message: null };

describe('summarizeEvent', () => {
  it('says who did what to which object where', () => {
    expect(summarizeEvent(sampleAuditRecord({ verb: 'delete', operation: 'delete', objectRef: ref({}), actor: deng, response: ok }))).toBe('Deng Wei deleted Deployment web/nginx in prod-eu-1');
    expect(summarizeEvent(sampleAuditRecord({ verb: 'patch', operation: 'image-change', objectRef: ref({}), actor: deng, response: ok }))).toBe('Deng Wei changed the image of Deployment web/nginx in prod-eu-1');
    expect(summarizeEvent(sampleAuditRecord({ verb: 'patch', operation: 'cordon', objectRef: ref({ resource: 'nodes', namespace: null, name: '172.16.18.13', apiGroup: '' }), actor: deng, response: ok }))).toBe('Deng Wei cordoned Node 172.16.18.13 in prod-eu-1');
    expect(summarizeEvent(sampleAuditRecord({ verb: 'create', operation: 'exec', objectRef: ref({ resource: 'pods', subresource: 'exec', name: 'api-0' }), actor: deng, response: { ...ok, code: 101 } }))).toBe("Deng Wei exec'd into Pod web/api-0 in prod-eu-1");
    expect(summarizeEvent(sampleAuditRecord({ verb: 'list', operation: 'list', objectRef: ref({ resource: 'pods', name: null }), actor: deng, response: ok }))).toBe('Deng Wei listed pods in web in prod-eu-1');
    expect(summarizeEvent(sampleAuditRecord({ verb: 'patch', operation: 'patch', objectRef: ref({ resource: 'nodes', subresource: 'status', namespace: null, name: 'n1' }), actor: { ...deng, displayName: 'n1' }, response: ok }))).toBe('n1 patched status of Node n1 in prod-eu-1');
  });

  it('says when a request was refused or failed, with the code', () => {
    const ksm = { ...deng, displayName: 'kube-state-metrics' };
    expect(summarizeEvent(sampleAuditRecord({ cluster: 'prod-us-1', verb: 'list', operation: 'secret-read', objectRef: ref({ resource: 'secrets', namespace: null, name: null, apiGroup: '' }), actor: ksm, response: { ...ok, code: 403 } }))).toBe(
      'kube-state-metrics was refused list secrets (403) in prod-us-1',
    );
    expect(summarizeEvent(sampleAuditRecord({ verb: 'delete', operation: 'delete', objectRef: ref({}), actor: deng, response: { ...ok, code: 404 } }))).toBe('Deng Wei failed to delete Deployment web/nginx (404) in prod-eu-1');
  });

  it('falls back to the username, and to the verb for requests without a resource', () => {
    expect(summarizeEvent(sampleAuditRecord({ verb: 'get', operation: 'other', objectRef: ref({ resource: null, name: null, namespace: null }), actor: { ...deng, displayName: '' }, response: ok }))).toBe('alice@example.com get in prod-eu-1');
  });
});
