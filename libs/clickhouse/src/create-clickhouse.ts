import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';
import { ClickHouseLogLevel, createClient, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client';
import { KauditError } from '@kaudit/errors';

/**
 * Settings kaudit sets on every request instead of trusting server defaults: ClickHouse 26.x turns
 * async_insert on and stops quoting 64-bit integers in JSON, either of which silently changes what an
 * insert acknowledgement or a parsed row means.
 */
export const EXPLICIT_SETTINGS: ClickHouseSettings = {
  // An insert is acknowledged only when its part is written: the sink commits Kafka offsets on that.
  async_insert: 0,
  wait_for_async_insert: 1,
  // Cluster mode: an insert into a Distributed table is acknowledged only when every shard has stored its rows;
  // by default it returns once the rows are queued on the node it was sent to, to be forwarded later.
  distributed_foreground_insert: 1,
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
  /** For an https URL: the CA the server's certificate must chain to, and optionally a client certificate (mTLS). */
  tls?: ClickHouseTlsFiles;
}

/** PEM files, as CLICKHOUSE_CA_FILE / CLICKHOUSE_CERT_FILE / CLICKHOUSE_KEY_FILE name them. */
export interface ClickHouseTlsFiles {
  caFile?: string | undefined;
  certFile?: string | undefined;
  keyFile?: string | undefined;
}

/** The connection part of the config (libs/config's ClickHouseConnectionConfig), as the client wants it. */
export interface ClickHouseConnectionLike extends ClickHouseTlsFiles {
  url: string;
  username?: string | undefined;
  password?: { reveal(): string } | undefined;
}

/** Client options from the shared connection config: the one place a password is revealed for the client. */
export function clickHouseConnectionOptions(connection: ClickHouseConnectionLike): Pick<ClickHouseOptions, 'url' | 'username' | 'password' | 'tls'> {
  const { caFile, certFile, keyFile } = connection;
  return {
    url: connection.url,
    ...(connection.username !== undefined ? { username: connection.username } : {}),
    ...(connection.password !== undefined ? { password: connection.password.reveal() } : {}),
    ...(caFile !== undefined || certFile !== undefined ? { tls: { caFile, certFile, keyFile } } : {}),
  };
}

function readPem(file: string, variable: string): Buffer {
  try {
    return readFileSync(file);
  } catch (cause) {
    throw new KauditError('CONFIG_INVALID', `cannot read ${file} (${variable}): ${(cause as Error).message}`, { cause });
  }
}

/**
 * How the client does TLS. With only a CA, @clickhouse/client's own `tls` option checks the server
 * against it. With a client certificate we pass our own https.Agent instead: the client's "Mutual"
 * mode would also send `X-ClickHouse-SSL-Certificate-Auth: on`, which makes ClickHouse authenticate the
 * user by the certificate's name and ignore CLICKHOUSE_PASSWORD — kaudit's role users log in with
 * passwords, and the certificate is what the server (or a TLS proxy before it) requires of the connection.
 */
function tlsOptions(tls: ClickHouseTlsFiles | undefined): { tls: { ca_cert: Buffer } } | { http_agent: Agent } | Record<string, never> {
  if (tls === undefined) return {};
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    throw new KauditError('CONFIG_INVALID', 'a ClickHouse client certificate needs both CLICKHOUSE_CERT_FILE and CLICKHOUSE_KEY_FILE');
  }
  // Without a configured CA the server is checked against Node's public CAs, as for any https URL.
  const ca = tls.caFile !== undefined ? readPem(tls.caFile, 'CLICKHOUSE_CA_FILE') : Buffer.from(rootCertificates.join('\n'));
  if (tls.certFile !== undefined && tls.keyFile !== undefined) {
    // keepAlive as the client's own agent has it; idle sockets do not keep the process alive.
    return { http_agent: new Agent({ keepAlive: true, ca, cert: readPem(tls.certFile, 'CLICKHOUSE_CERT_FILE'), key: readPem(tls.keyFile, 'CLICKHOUSE_KEY_FILE') }) };
  }
  return { tls: { ca_cert: ca } };
}

export type ClickHouse = ClickHouseClient;

/** A ClickHouse HTTP client with kaudit's explicit settings; one per process, closed on stop. */
export function createClickHouse(options: ClickHouseOptions): ClickHouse {
  return createClient({
    url: options.url,
    username: options.username ?? 'default',
    password: options.password ?? '',
    ...(options.database !== undefined ? { database: options.database } : {}),
    ...tlsOptions(options.tls),
    request_timeout: options.requestTimeoutMs ?? 30_000,
    application: options.applicationName ?? 'kaudit',
    clickhouse_settings: { ...EXPLICIT_SETTINGS, ...(options.settings ?? {}) },
    compression: { request: false, response: true },
    // Every failed request reaches the caller as an error, which kaudit classifies and logs itself;
    // the client's own console logging would print each one a second time.
    log: { level: ClickHouseLogLevel.OFF },
  });
}
