import { ClickHouseLogLevel, createClient, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client';

/**
 * Settings kaudit sets on every request instead of trusting server defaults: ClickHouse 26.x turns
 * async_insert on and stops quoting 64-bit integers in JSON, either of which silently changes what an
 * insert acknowledgement or a parsed row means.
 */
export const EXPLICIT_SETTINGS: ClickHouseSettings = {
  // An insert is acknowledged only when its part is written: the sink commits Kafka offsets on that.
  async_insert: 0,
  wait_for_async_insert: 1,
  // Deduplication by insert_deduplication_token is how the sink is exactly-once.
  insert_deduplicate: 1,
  // Quote UInt64/Int64 in JSON so JavaScript numbers never round them.
  output_format_json_quote_64bit_integers: 1,
  output_format_json_quote_64bit_floats: 0,
  input_format_json_read_numbers_as_strings: 1,
  date_time_input_format: 'best_effort',
  date_time_output_format: 'iso',
};

export interface ClickHouseOptions {
  url: string;
  username?: string;
  password?: string;
  database?: string;
  requestTimeoutMs?: number;
  /** Extra settings on top of EXPLICIT_SETTINGS (which they may override). */
  settings?: ClickHouseSettings;
  applicationName?: string;
}

export type ClickHouse = ClickHouseClient;

/** A ClickHouse HTTP client with kaudit's explicit settings; one per process, closed on stop. */
export function createClickHouse(options: ClickHouseOptions): ClickHouse {
  return createClient({
    url: options.url,
    username: options.username ?? 'default',
    password: options.password ?? '',
    ...(options.database !== undefined ? { database: options.database } : {}),
    request_timeout: options.requestTimeoutMs ?? 30_000,
    application: options.applicationName ?? 'kaudit',
    clickhouse_settings: { ...EXPLICIT_SETTINGS, ...(options.settings ?? {}) },
    compression: { request: false, response: true },
    // Every failed request reaches the caller as an error, which kaudit classifies and logs itself;
    // the client's own console logging would print each one a second time.
    log: { level: ClickHouseLogLevel.OFF },
  });
}
