/** Environment variables through which global-setup.ts hands the suite's engine endpoints to test workers. */
export const TEST_ENV = {
  kafkaBrokers: 'KAUDIT_TEST_KAFKA_BROKERS',
  clickhouseUrl: 'KAUDIT_TEST_CLICKHOUSE_URL',
  /** The local test broker's log.dirs, for tests that check what the broker stored (absent for an external Kafka). */
  kafkaDataDir: 'KAUDIT_TEST_KAFKA_DATA_DIR',
} as const;
