import type { Logger } from '@kaudit/logging';

/** What every benchmark gets: the engines of this run (started once by bench/main.ts) and a logger. */
export interface BenchContext {
  kafkaBrokers: string;
  clickhouseUrl: string;
  logger: Logger;
  /** Scale knob: 1 = the default size; `npm run bench -- --scale 0.2 ingest` for a quick look. */
  scale: number;
  /** Stops one of this run's engines (fault benchmarks); absent when the engines are external. */
  stopEngine?: (engine: 'kafka' | 'clickhouse') => Promise<void>;
  /** The local broker's log.dirs, for figures the broker's own storage gives; absent when the Kafka is external. */
  kafkaDataDir?: string;
  /**
   * The PIDs of this run's local engines right now (read on each call: a restarted engine has a new one), whose
   * process trees hold the Kafka JVM and the ClickHouse engine; an external or stopped engine has none.
   */
  enginePids?: () => { kafka?: number; clickhouse?: number };
  /** Starts whatever engine of this run is stopped and waits until it serves. */
  startEngines?: () => Promise<void>;
}

/** One measured figure. A figure with `baseline` is reported as value/baseline next to it. */
export interface BenchFigure {
  name: string;
  value: number;
  unit: string;
  /** The raw baseline measured in the same run (raw kafkajs, raw @clickhouse/client insert), same unit. */
  baseline?: number;
  /** What the baseline is, e.g. `raw kafkajs producer, same bytes`. */
  baselineName?: string;
  /** The goal from the issue, e.g. `>= 0.8x` or `p99 < 1000 ms`, shown beside the figure. */
  goal?: string;
}

/** A benchmark module: `bench/<name>.ts` exports `run`. */
export type BenchRun = (ctx: BenchContext) => Promise<BenchFigure[]>;
