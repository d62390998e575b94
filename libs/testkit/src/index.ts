export { testEndpoints, uniqueName, silentLogger, type TestEndpoints } from './test-endpoints.js';
export { topicLogBytes, testKafkaDataDir } from './topic-log-bytes.js';
export { consumeAll } from './consume-all.js';
export { ServiceProcess, type ServiceProcessOptions } from './service-process.js';
export { slackWebhookSchema, teamsWebhookSchema, pagerdutyEventSchema, opsgenieAlertSchema } from './vendor-schemas.js';
export { makeTestCertificates, type TestCertificates } from './test-certificates.js';
export { startSecuredKafka, type SecuredKafka } from './secured-kafka.js';
export { startTlsProxy, type TlsProxy, type TlsProxyOptions } from './tls-proxy.js';
export { serviceEnvDocsDrift, documentedEnv, SERVICES_DOC, type EnvDocsDrift } from './service-env-docs.js';
