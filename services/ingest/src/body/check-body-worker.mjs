// Worker-thread entry of the body-check pool (see body-checker.ts). Plain JavaScript so it loads in
// any worker, whatever loader flags the parent ran with; it registers tsx itself to import the
// TypeScript module that does the work.
import { register } from 'tsx/esm/api';

register();
const { checkAuditBody } = await import('./check-audit-body.ts');

export default checkAuditBody;
