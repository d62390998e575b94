/**
 * How a kaudit service is started with node: the tsx loader in-process (so the PID is the service,
 * not a wrapper) and a 64 MiB young-generation semi-space. The services allocate a Kafka batch's
 * worth of buffers many times a second; with V8's 16 MiB default, in-flight buffers survive
 * scavenges and get promoted, and the ingest benchmark ran 10–15% slower. V8 reads the flag only at
 * start-up. The Dockerfile's ENTRYPOINT repeats these flags.
 */
export function serviceNodeArgs(entry: string): string[] {
  return ['--max-semi-space-size=64', '--import', 'tsx', entry];
}
