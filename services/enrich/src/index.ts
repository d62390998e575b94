export { buildEnrich, type BuiltEnrich, type EnrichDeps } from './build-enrich.js';
export { enrichConfigSchema, loadEnrichConfig, ENRICH_ENV, type EnrichConfig } from './config.js';
export { Enricher, enrichedKey } from './enricher.js';
export { buildAuditRecord, type RawMeta, type BuildOptions } from './normalize/build-audit-record.js';
export { classifyOperation } from './normalize/classify-operation.js';
export { parseClient } from './normalize/parse-client.js';
export { parseBuiltinIdentity } from './identity/builtin-identity.js';
