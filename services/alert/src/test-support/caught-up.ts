import type { KafkaAdmin } from '@kaudit/kafka';
import { waitUntilDrained } from '@kaudit/testkit';

/** Waits until the group has committed everything written to the topic (the service processed it all). */
export function caughtUp(admin: KafkaAdmin, group: string, topic: string): Promise<void> {
  // Bounded so that a stalled consumer fails with its lag instead of running into the test's own timeout.
  return waitUntilDrained(admin, [{ group, topic }], 120_000);
}
