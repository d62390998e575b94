import type { KauditError } from '@kaudit/errors';
import type { Telemetry } from '@kaudit/logging';
import type { ConsumerCrash, KafkaClient } from './types.js';

/** Where a service's consumer crashes go. */
export interface ConsumerSupervision {
  /** `consumer_crashed` (warn) when the client restarts the consumer; `consumer_crashed_for_good` (error) otherwise. */
  telemetry: Telemetry;
  /** Told once a consumer stopped for good: the service can no longer do its work (libs/runtime's ServiceFailure). */
  failure: { fail(err: KauditError): void };
}

/**
 * The client with every consumer it makes supervised: one policy for every consuming service (enrich, the sink,
 * alert's evaluator, delivery workers and state reader), wired once in each builder. A crash the client restarts
 * itself is logged and counted; a consumer that stopped for good fails the service, which then fails its probes
 * and exits non-zero so the orchestrator restarts it — kept alive, it would answer /healthz and /readyz while
 * rows and alerts wait behind it forever (DESIGN.md: nothing is dropped silently).
 */
export function superviseConsumers(client: KafkaClient, supervision: ConsumerSupervision): KafkaClient {
  const { telemetry, failure } = supervision;
  const onCrash = ({ groupId, restarting, error }: ConsumerCrash) => {
    const fields = { groupId, code: error.code, ...(error.details.kafkaError === undefined ? {} : { kafkaError: error.details.kafkaError }), err: error.message };
    if (restarting) {
      telemetry.emit({ event: 'consumer_crashed', level: 'warn', fields });
      return;
    }
    telemetry.emit({ event: 'consumer_crashed_for_good', level: 'error', fields });
    failure.fail(error);
  };
  return {
    producer: (options) => client.producer(options),
    admin: () => client.admin(),
    warmUpCodecs: (records, options) => client.warmUpCodecs(records, options),
    consumer: (options) =>
      client.consumer({
        ...options,
        onCrash: (crash) => {
          options.onCrash?.(crash);
          onCrash(crash);
        },
      }),
  };
}
