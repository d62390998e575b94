import { setFlagsFromString } from 'node:v8';

/**
 * How much V8 lets the old generation grow past what survived a full collection before it collects again,
 * in percent, for every isolate of the process (worker threads too: V8 flags are per process). buildIngest and
 * buildSink set it, so their main.ts, tests and benches run with it.
 *
 * Not enrich and alert, which are on the alert path: in enrich it bought throughput but cost latency — fewer, larger
 * collections pause the event loop longer. The alert bench on a quiet machine, enrich with / without it (everything
 * else the same; docs/operating.md, "This round"): enrich's hop steady p50 190–287 / 34 ms, p99 700–1,215 /
 * 164–205 ms. Alert was not measured on its own with it.
 *
 * Why: under the 160 MiB old-space cap of every service (SERVICE_V8_FLAGS, the image's NODE_OPTIONS) V8
 * grows the limit by only ~1.3× the live size — the factor it uses for small heaps. Ingest holds each
 * batch until Kafka acknowledged it (~100–400 ms), enrich and the sink hold a fetch's records until their
 * output is durable: long enough for those records to be promoted, and with ~25 MB live that headroom is
 * used up at once. V8 kept an incremental marking running back to back, ~60 full collections in 8 s at
 * full load in ingest, and its GC threads cost more CPU per event than the Kafka producer (bench/ingest.ts;
 * issue 16). Doubling the headroom leaves the cap — the RSS bound — as it is. It cannot go in NODE_OPTIONS
 * (Node refuses this V8 flag there), hence set at run time.
 *
 * Its cost in ingest is memory, not much: without it (ingest bench, 2 runs back to back on a loaded machine) the
 * RSS peak was 279–282 MiB against 305–307 with it, but CPU per event 100–103 µs against 64, the GC threads' share
 * 38–41 µs against 12–14. So ingest keeps it and bounds its RSS elsewhere (its parse workers' nursery, body-checker.ts).
 */
export const OLD_GENERATION_GROWTH_PERCENT = 100;

/** Sets V8's heap growing factor (read each time V8 recomputes its limits, so it applies after start-up too). */
export function growOldGeneration(percent: number = OLD_GENERATION_GROWTH_PERCENT): void {
  setFlagsFromString(`--heap-growing-percent=${Math.round(percent)}`);
}
