import { type AuditRecordCodec, type EventTimeWindow } from '@kaudit/audit-schema';
import { auditTraffic } from '@kaudit/audit-generator';
import { RAW_HEADERS, type CodecWarmUpResult, type IncomingRecord, type OutgoingRecord } from '@kaudit/kafka';
import type { WarmUpRound } from '@kaudit/runtime';
import { Enricher } from './enricher.js';
import type { DirectoryIndex } from './identity/directory.js';
import { IdentityResolver } from './identity/identity-resolver.js';
import type { BuildOptions } from './normalize/build-audit-record.js';

/** Distinct sample events per round: enough shapes (verbs, resources, levels, scenarios) to warm each path. */
const SAMPLES = 2000;
const SCENARIOS = ['exec-into-pod', 'ksm-403-storm', 'nginx-changes', 'delete-nginx', 'cordon-node'] as const;

/**
 * One warm-up round of enrich's hot path: apiserver-like raw records (the demo generator's traffic,
 * as ingest writes them) through an Enricher built like the service's — its codec (avsc compiles an
 * encoder per codec), options, event window and identity directory — but with no remote directory:
 * a warm-up calls no other system. The records it builds are dropped: nothing is produced. With
 * `kafkaCodecs` (KafkaClient.warmUpCodecs: in-process, it cannot send) they first go through the Kafka
 * client's produce encoding and fetch decoding, which the first real batches would otherwise run cold.
 */
export function enrichWarmUp(deps: {
  codec: AuditRecordCodec;
  options: BuildOptions;
  window: EventTimeWindow;
  directory: () => DirectoryIndex;
  kafkaCodecs?: (records: readonly OutgoingRecord[]) => Promise<CodecWarmUpResult>;
}): () => Promise<WarmUpRound> {
  const identity = new IdentityResolver({ directory: deps.directory, remote: undefined, onResolved: () => undefined });
  const enricher = new Enricher({ identity, codec: deps.codec, options: deps.options, window: deps.window });
  // Built at the first round (a service with the warm-up off never builds them).
  let samples: IncomingRecord[] | undefined;
  const build = (): IncomingRecord[] => {
    const receivedAt = Buffer.from(new Date().toISOString());
    const traffic = auditTraffic({ seed: 1, clusters: ['warm-up'], startMs: Date.now(), stepMs: 1, scenarios: SCENARIOS, scenarioEvery: SAMPLES / (SCENARIOS.length + 1) });
    return Array.from({ length: SAMPLES }, (_, i) => {
      const { cluster, event } = traffic.next().value as { cluster: string; event: Record<string, unknown> };
      return { topic: 'warm-up', partition: 0, offset: String(i), key: Buffer.from(cluster), value: Buffer.from(JSON.stringify(event)), headers: { [RAW_HEADERS.cluster]: Buffer.from(cluster), [RAW_HEADERS.receivedAt]: receivedAt }, timestamp: String(Date.now()) };
    });
  };
  return async () => {
    samples ??= build();
    let outputs = 0;
    const outs: OutgoingRecord[] = [];
    for (const raw of samples) {
      const done = await enricher.enrich(raw);
      if (done.ok) outs.push(done.out);
    }
    outputs += outs.length;
    await deps.kafkaCodecs?.(outs);
    return { events: samples.length, outputs };
  };
}
