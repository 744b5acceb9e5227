// Lint rules, including the layout's import boundaries from DESIGN.md, so a wrong import fails CI.
import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const nodeBuiltins = { group: ['node:*', 'fs', 'path', 'os', 'child_process', 'net', 'tls', 'http', 'crypto'], message: 'No I/O here: this side imports only shared/.' };
const electronOnlyInShell = { name: 'electron', message: "Only electron/main and electron/preload import 'electron'." };
const updaterOnlyInMain = { name: 'electron-updater', message: 'Only electron/main imports electron-updater.' };

export default tseslint.config(
  { ignores: ['out/**', 'node_modules/**', 'test-results/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs['flat/recommended'],
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] } },
  },
  {
    files: ['renderer/**/*.{ts,svelte}'],
    ignores: ['renderer/vite.config.ts'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': ['error', { paths: [electronOnlyInShell, updaterOnlyInMain], patterns: [nodeBuiltins, { group: ['**/electron/**'], message: 'The renderer imports only shared/.' }] }],
    },
  },
  {
    files: ['shared/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [electronOnlyInShell, updaterOnlyInMain], patterns: [nodeBuiltins, { group: ['**/electron/**', '**/renderer/**'], message: 'shared/ is pure: it imports nothing of the other sides.' }] }],
    },
  },
  {
    files: ['electron/{raft,swarm,agent,net,provision,server,cli}/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [electronOnlyInShell, updaterOnlyInMain] }],
    },
  },
  {
    files: ['electron/preload/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [updaterOnlyInMain] }],
    },
  },
  {
    files: ['electron/raft/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [electronOnlyInShell, updaterOnlyInMain], patterns: [{ group: ['../../*', '!../../raft', '../../../*'], message: 'electron/raft imports nothing of Skep outside electron/raft.' }, { group: ['**/shared/**', '**/swarm/**', '**/net/**', '**/agent/**', '**/server/**', '**/cli/**', '**/provision/**', '**/main/**'], message: 'electron/raft imports nothing of Skep outside electron/raft.' }] }],
    },
  },
);
