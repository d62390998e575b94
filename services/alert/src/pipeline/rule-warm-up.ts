import type { AuditRecordCodec } from '@kaudit/audit-schema';
import type { CodecWarmUpResult, OutgoingRecord } from '@kaudit/kafka';
import type { WarmUpRound } from '@kaudit/runtime';
import { buildTestRecords } from '../engine/run-rule-tests.js';
import { RuleEngine } from '../engine/rule-engine.js';
import type { CompiledRule } from '../rules/compiled-rule.js';
import type { RoleFacts } from '../rules/role-fact.js';
import { roleFactOf } from '../rules/role-fact.js';

/**
 * One warm-up round of the evaluator's hot path: the loaded rules' own test events (positive and
 * negative, the shapes each rule is written for), Avro-encoded once, then decoded with the service's
 * codec (its generated decoder is what gets compiled) and run through a throwaway engine holding
 * every rule. The alerts it computes are counted and dropped: nothing is produced, no state is kept,
 * no role fact is learnt by the service. A rule whose test events do not build is simply left out.
 * With `kafkaCodecs` (KafkaClient.warmUpCodecs: in-process, it cannot send), the encoded events also go
 * through the Kafka client's fetch-response decoding and produce encoding, which the evaluator's first
 * fetches would otherwise run cold; `codecRecords()` counts them for warm_up_done.
 */
export function ruleWarmUp(
  rules: readonly CompiledRule[],
  codec: AuditRecordCodec,
  kafkaCodecs?: (records: readonly OutgoingRecord[]) => Promise<CodecWarmUpResult>,
): { round: () => Promise<WarmUpRound>; codecRecords: () => number } {
  const build = (): Buffer[] => {
    const encoded: Buffer[] = [];
    for (const rule of rules) {
      for (const test of rule.tests) {
        try {
          for (const record of buildTestRecords(rule.id, test)) encoded.push(codec.encode(record));
        } catch {
          // `kaudit rules test` reports it; the warm-up has the other rules' events.
        }
      }
    }
    return encoded;
  };
  // Built at the first round (a service with the warm-up off never builds them).
  let samples: Buffer[] | undefined;
  let asRecords: OutgoingRecord[] | undefined;
  let codecRecords = 0;
  const fingerprint = codec.fingerprint;
  const known = new Set<string>();
  const facts: RoleFacts = { isPowerful: (key) => known.has(key) };
  const round = async (): Promise<WarmUpRound> => {
    samples ??= build();
    const engine = new RuleEngine({ rules, nowUs: () => Date.now() * 1000 });
    let outputs = 0;
    for (const bytes of samples) {
      const record = codec.decode(bytes, fingerprint);
      outputs += engine.process(record, { facts }).length;
      const fact = roleFactOf(record);
      if (fact !== undefined && fact.powerful.length > 0) known.add(fact.key);
    }
    outputs += engine.flush({ idleNowUs: Number.MAX_SAFE_INTEGER }).length;
    if (kafkaCodecs !== undefined) {
      asRecords ??= samples.map((value) => ({ key: 'warm-up', value }));
      codecRecords += (await kafkaCodecs(asRecords)).records;
    }
    return { events: samples.length, outputs };
  };
  return { round, codecRecords: () => codecRecords };
}
