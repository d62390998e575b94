/**
 * V8 heap flags of every kaudit service (issue 16: each service < 300 MiB RSS under load). V8 grows
 * its heap lazily, far beyond the live set, unless told a limit; both spaces are capped here:
 * - young generation: 16 MiB semi-spaces (V8's own default on 64-bit). Each isolate commits two of
 *   them once busy — ingest's parse workers are isolates too and get the same flags — and at 64 MiB
 *   that was 128 MiB of RSS per isolate, most of each service's RSS, for a few % of ingest throughput;
 * - old generation: 160 MiB. What the services keep is bounded by their byte limits (fetch sizes,
 *   in-flight bodies, a parse worker's one body), all well below it, so the cap only stops V8 from
 *   putting off full collections while RSS grows; it is not a budget the work is expected to reach.
 * V8 reads them only at start-up. The Dockerfile's NODE_OPTIONS repeat them (replaceable per component with the
 * chart's extraEnv: node's command line would win over NODE_OPTIONS), and the Helm chart's
 * memory requests and limits are sized from them (deploy/helm/kaudit/values.yaml).
 */
export const SERVICE_V8_FLAGS: readonly string[] = ['--max-semi-space-size=16', '--max-old-space-size=160'];

/** How a kaudit service is started with node: the heap flags and the tsx loader in-process (so the PID is the service, not a wrapper). */
export function serviceNodeArgs(entry: string): string[] {
  return [...SERVICE_V8_FLAGS, '--import', 'tsx', entry];
}
