// Values global-setup.ts provides to every integration test; `testEndpoints()` reads them.
// Type-only on purpose: global-setup runs outside the test workers and must not load vitest's runtime.
declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
    clickhouseUrl: string;
  }
}
export {};
