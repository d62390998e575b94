export { IngestPipeline, type IngestContext, type IngestResult } from './ingest-pipeline.js';
export { BatchingPublisher } from './publish/batching-publisher.js';
export { DeadLetters } from './publish/dead-letters.js';
export { buildRawRecords, TRUNCATED_ANNOTATION, type IngestSource, type RawRecordContext } from './publish/build-raw-records.js';
export { parseAuditBody, type ParsedAuditBody } from './body/parse-audit-body.js';
export { ClusterDirectory, type AuthOutcome } from './clusters/cluster-directory.js';
export { loadIngestConfig, ingestConfigSchema, INGEST_ENV, type IngestConfig } from './config.js';
export { buildIngestService, type IngestService } from './ingest-service.js';
export { sampleAuditEvent, sampleEventList } from './fixtures/sample-audit-event.js';
