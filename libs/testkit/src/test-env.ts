/** Environment variables through which global-setup.ts hands the suite's engine endpoints to test workers. */
export const TEST_ENV = {
  kafkaBrokers: 'KAUDIT_TEST_KAFKA_BROKERS',
  clickhouseUrl: 'KAUDIT_TEST_CLICKHOUSE_URL',
} as const;
