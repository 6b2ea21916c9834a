import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// DESIGN.md's arrows, checked: renderer → (contract only) ← main → app → proxy-core.
const NOT_ELECTRON = { name: 'electron', message: 'Only main/ may use Electron: app/ runs in plain Node (CLI, web mode, tests).' };
const NOT_MAIN = { group: ['**/main/*', '**/main/**'], message: 'main/ is the Electron shell: nothing imports it.' };
const NOT_RENDERER = { group: ['**/renderer/*', '**/renderer/**'], message: 'renderer/ is the UI: Node code never imports it.' };
// What the UI may take from app/: the API contract and bridge type, the events and snapshot
// (state/), the config schema, the server-under-test types, and pure shared modules (shared/).
const RENDERER_MAY_IMPORT = ['api/contract.ts', 'api/bridge.ts', 'events.ts', 'config.ts', 'server/under-test.ts', 'state/', 'shared/'];
const escape = (text) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const RENDERER_APP_IMPORT = `^(\\.\\./)+app/(?!(${RENDERER_MAY_IMPORT.map(escape).join('|')}))`;

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
      'no-restricted-imports': ['error', {
        paths: [NOT_ELECTRON],
        patterns: [{ group: ['**/app/*', '**/app/**'], message: 'proxy-core imports nothing of the lab.' }, NOT_MAIN, NOT_RENDERER],
      }],
    },
  },
  {
    files: ['app/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [NOT_ELECTRON], patterns: [NOT_MAIN, NOT_RENDERER] }] },
  },
  {
    files: ['main/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [NOT_RENDERER] }] },
  },
  {
    // The UI runs in a browser page (web mode) or a sandboxed renderer: no Node, no Electron,
    // and of app/ only what RENDERER_MAY_IMPORT lists.
    files: ['renderer/**/*.ts', 'renderer/**/*.tsx'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [NOT_ELECTRON],
        patterns: [
          NOT_MAIN,
          { group: ['node:*'], message: 'The renderer runs in a browser: no Node modules.' },
          { group: ['**/proxy-core/*', '**/proxy-core/**'], message: 'The renderer sees the proxy only through app/events.ts.' },
          { regex: RENDERER_APP_IMPORT, message: 'Of app/, the renderer imports only the contract, events, snapshot, config schema and app/shared/.' },
        ],
      }],
    },
  },
);
