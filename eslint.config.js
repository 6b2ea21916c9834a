import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'out/', 'test-results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // proxy-core is deployed on its own: it must not reach into the lab, Electron or the UI.
    // (Its tests may start the lab's demo backend as their pods.)
    files: ['proxy-core/**/*.ts'],
    ignores: ['proxy-core/test/**', 'proxy-core/**/*.test.ts', 'proxy-core/bench/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['../app/*', '../../app/*', '**/main/*', '**/renderer/*', 'electron'] }],
    },
  },
);
