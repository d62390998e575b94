import { describe, expect, it } from 'vitest';
import { sampleAuditRecord } from '@kaudit/audit-schema';
import { compileTemplate, renderTemplate } from './render-template.js';

describe('compileTemplate', () => {
  it('renders as renderTemplate does: fields, arrays, maps, missing fields as ?, text around and between tokens', () => {
    const templates = [
      '{actor.displayName} deleted {objectRef.resource}/{objectRef.name}',
      'no tokens at all',
      '{verb}',
      '{count} × {verb} from {sourceIPs} ({user.groups}) {annotations.pod-security.kubernetes.io/enforce} {impersonatedUser.username} {nope} {objectRef}{}',
      '',
    ];
    const records: unknown[] = [
      { ...sampleAuditRecord(), count: 3 },
      { ...sampleAuditRecord({ sourceIPs: ['10.0.0.1', '10.0.0.2'], annotations: { 'pod-security.kubernetes.io/enforce': 'privileged' } }), count: 1 },
      {},
      null,
    ];
    for (const template of templates) {
      const render = compileTemplate(template);
      for (const record of records) expect({ template, text: render(record) }).toEqual({ template, text: renderTemplate(template, record) });
    }
    expect(compileTemplate('{verb} {objectRef.name}')(sampleAuditRecord({ verb: 'delete' }))).toBe(`delete ${String(sampleAuditRecord().objectRef.name)}`);
  });
});
