// @ts-check
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

// Packages talk through their public entry only, never another package's src/ internals; kafkajs stays in one file.
const packageBoundaries = [
  { group: ['@kaudit/*/*', 'kaudit/*'], message: 'Import the package entry (@kaudit/x), not its internals.' },
  { group: ['../../libs/*', '../../../libs/*', '../../services/*', '../../../services/*', '**/services/*/src/**', '**/libs/*/src/**'], message: 'Import other packages by name, not by relative path.' },
  { group: ['kafkajs'], message: 'kafkajs is used only in libs/kafka/src/kafkajs-adapter.ts (CONVENTIONS §13).' },
];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '.kaudit/**', 'coverage/**', 'cli/bin/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    // Resolves `./x.js` specifiers to `./x.ts` and workspace packages to their src, so no-cycle sees the real graph.
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: ['tsconfig.base.json'] })],
      // Without these, import-x does not parse .ts dependencies and no-cycle sees no edges.
      'import-x/extensions': ['.ts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
    },
    rules: {
      // The dependency graph stays a DAG: libs never reach back into services, nothing cycles.
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      // Packages talk through their public entry only, never another package's src/ internals.
      'no-restricted-imports': ['error', { patterns: packageBoundaries }],
      // libs/* are shared by every service and the CLI, so they never import one (CONVENTIONS §1): by package
      // name or by path, both resolve into these folders.
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            {
              target: './libs',
              from: ['./services', './cli'],
              message: 'libs never import a service or the CLI (CONVENTIONS §1); move what both need into a lib.',
            },
          ],
        },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // A service's main.ts only reads env, loads config, makes the logger and registry and runs what
    // build<Service>(config, deps) returns; the builder wires the rest, so tests and the bench that call it
    // run what ships (CONVENTIONS §9, issue 16).
    files: ['services/*/src/main.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...packageBoundaries,
            { group: ['./*', '../*', '!./config.js', '!./build-*.js'], message: 'main.ts imports only ./config.js and its ./build-<service>.js; wire parts in the builder.' },
            { group: ['@kaudit/kafka', '@kaudit/clickhouse'], message: 'main.ts builds no clients; build<Service>(config, deps) does.' },
          ],
          paths: [
            { name: '@kaudit/runtime', importNames: ['HealthServer'], message: 'The health server is part of what build<Service> returns.' },
            { name: '@kaudit/logging', importNames: ['createTelemetry'], message: 'Telemetry is made by build<Service> from the logger and registry.' },
          ],
        },
      ],
    },
  },
  {
    // The raw baselines' one door to kafkajs (that is what "raw" means); the rest of bench/ keeps every rule.
    files: ['libs/kafka/src/kafkajs-adapter.ts', 'bench/raw-kafkajs.ts'],
    rules: {
      'no-restricted-imports': 'off',
    },
  },
);
