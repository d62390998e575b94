/**
 * The closed set of failure kinds in kaudit. Code branches on these, never on message text.
 * Add a code here (and nowhere else) when a new kind of failure needs distinct handling.
 */
export const ERROR_CODES = [
  'CONFIG_INVALID', // configuration failed validation; not retryable, fix the config
  'INPUT_INVALID', // bad data from outside (HTTP body, Kafka record, file line); dead-letter it
  'INPUT_TOO_LARGE', // a body or event over a configured limit
  'UNAUTHENTICATED', // no or unknown credentials
  'FORBIDDEN', // valid credentials for something else
  'NOT_FOUND', // unknown cluster, object or route
  'KAFKA_UNAVAILABLE', // broker unreachable or did not acknowledge in time; retry
  'KAFKA_ERROR', // other non-transient Kafka failure (not the broker's answer to a request)
  'KAFKA_REJECTED', // the broker refused the request for good (authorization, record too large, invalid topic); retrying the same request cannot succeed
  'KAFKA_AUTH_FAILED', // the broker refused our SASL credentials, or its TLS certificate/name did not verify; fix the config, never retried
  'CLICKHOUSE_UNAVAILABLE', // ClickHouse unreachable or overloaded; retry
  'CLICKHOUSE_REJECTED', // ClickHouse refused the data or query as invalid; do not retry as-is
  'CLICKHOUSE_TLS_FAILED', // the TLS handshake with ClickHouse failed (untrusted or mismatched certificate, client certificate refused); not retryable, fix CLICKHOUSE_CA_FILE / CERT_FILE / KEY_FILE
  'MIGRATION_FAILED', // a schema migration failed to apply
  'STACK_PREREQUISITE', // the local stack cannot start here (no Java, wrong platform, port taken)
  'STACK_START_FAILED', // an engine process started but did not become ready
  'NOTIFIER_FAILED', // a notification destination refused or failed
  'SHUTDOWN_TIMEOUT', // a component did not stop before the deadline
  'OVERLOADED', // bounded resources are full; caller should back off
  'INTERNAL', // a bug: an invariant did not hold
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface KauditErrorOptions {
  /** Whether repeating the same operation later may succeed. */
  retryable?: boolean;
  cause?: unknown;
  /** Structured facts for logs and API responses; never secrets. */
  details?: Record<string, unknown>;
}

const RETRYABLE_BY_DEFAULT: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'KAFKA_UNAVAILABLE',
  'CLICKHOUSE_UNAVAILABLE',
  'OVERLOADED',
  'NOTIFIER_FAILED',
]);

/** The one error class of kaudit: thrown wherever a failure must be handled by kind (see `code`). */
export class KauditError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: KauditErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KauditError';
    this.code = code;
    this.retryable = options.retryable ?? RETRYABLE_BY_DEFAULT.has(code);
    this.details = options.details ?? {};
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, retryable: this.retryable, ...this.details };
  }
}

export function isKauditError(err: unknown, code?: ErrorCode): err is KauditError {
  return err instanceof KauditError && (code === undefined || err.code === code);
}
