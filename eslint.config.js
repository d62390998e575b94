// @ts-check
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

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
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@kaudit/*/*', 'kaudit/*'], message: 'Import the package entry (@kaudit/x), not its internals.' },
            { group: ['../../libs/*', '../../../libs/*', '../../services/*', '../../../services/*', '**/services/*/src/**', '**/libs/*/src/**'], message: 'Import other packages by name, not by relative path.' },
            { group: ['kafkajs'], message: 'kafkajs is used only in libs/kafka/src/kafkajs-adapter.ts (CONVENTIONS §13).' },
          ],
        },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['libs/kafka/src/kafkajs-adapter.ts', 'bench/**/*.ts'],
    rules: {
      'no-restricted-imports': 'off',
    },
  },
);
