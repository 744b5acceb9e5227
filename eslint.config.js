// Lint rules, including the layout's import boundaries from DESIGN.md, so a wrong import fails CI.
import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const nodeBuiltins = { group: ['node:*', 'fs', 'path', 'os', 'child_process', 'net', 'tls', 'http', 'crypto'], message: 'No I/O here: this side imports only shared/.' };
const electronOnlyInShell = { name: 'electron', message: "Only electron/main and electron/preload import 'electron'." };
const dockerodeOnlyInExecutor = { name: 'dockerode', message: 'Only electron/agent/exec/docker imports dockerode.' };
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
  // Every electron/ file: 'electron' only in the shell, dockerode only in agent/exec/docker.
  {
    files: ['electron/**/*.ts'],
    ignores: ['electron/main/**', 'electron/preload/**', 'electron/agent/exec/docker/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [electronOnlyInShell, dockerodeOnlyInExecutor, updaterOnlyInMain] }],
    },
  },
  {
    files: ['electron/main/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [dockerodeOnlyInExecutor] }],
    },
  },
  {
    files: ['electron/preload/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [dockerodeOnlyInExecutor, updaterOnlyInMain] }],
    },
  },
  // The arrows of DESIGN.md: main, cli → node → swarm, agent, provision → protocol → net → shared.
  // (Later blocks replace earlier ones for the same rule, so each carries the paths above too.)
  ...[
    { room: 'net', may: 'shared/ only', banned: ['protocol', 'node', 'swarm', 'agent', 'provision', 'server', 'cli', 'main', 'raft'] },
    { room: 'protocol', may: 'net/ and shared/', banned: ['node', 'swarm', 'agent', 'provision', 'server', 'cli', 'main', 'raft'] },
    { room: 'swarm', may: 'protocol/, net/, raft/ and shared/ — never agent/ or node/', banned: ['node', 'agent', 'provision', 'server', 'cli', 'main'] },
    { room: 'agent', may: 'protocol/, net/ and shared/ — never swarm/ or node/', banned: ['node', 'swarm', 'provision', 'server', 'cli', 'main', 'raft'] },
    { room: 'node', may: 'swarm/, agent/, provision/, protocol/, net/ and shared/', banned: ['server', 'cli', 'main'] },
  ].flatMap(({ room, may, banned }) => {
    const patterns = [{ group: banned.flatMap((b) => [`**/electron/${b}/**`, `../${b}/*`, `../../${b}/*`, `../../../${b}/*`, `../../../../${b}/*`, `../${b}`, `../../${b}`]), message: `electron/${room} may import ${may}.` }];
    const blocks = [{
      files: [`electron/${room}/**/*.ts`],
      ignores: ['electron/agent/exec/docker/**'],
      rules: { 'no-restricted-imports': ['error', { paths: [electronOnlyInShell, dockerodeOnlyInExecutor, updaterOnlyInMain], patterns }] },
    }];
    // agent/exec/docker is the one place that speaks to the Docker Engine.
    if (room === 'agent') blocks.push({ files: ['electron/agent/exec/docker/**/*.ts'], ignores: [], rules: { 'no-restricted-imports': ['error', { paths: [electronOnlyInShell, updaterOnlyInMain], patterns }] } });
    return blocks;
  }),
  // Inside swarm/: the manager composes its components; they use state/ and never each other.
  ...['controlapi', 'dispatcher', 'roles'].map((component) => ({
    files: [`electron/swarm/${component}/**/*.ts`],
    rules: {
      'no-restricted-imports': ['error', { paths: [electronOnlyInShell, dockerodeOnlyInExecutor, updaterOnlyInMain], patterns: [
        { group: ['controlapi', 'dispatcher', 'orchestrator', 'scheduler', 'roles'].filter((c) => c !== component).map((c) => `../${c}/*`).concat(['../manager.js']), message: `swarm/${component} uses state/ and never the other components; the manager composes them.` },
        { group: ['**/electron/node/**', '../../../node/*', '../../../agent/*', '../../agent/*', '../../node/*'], message: 'swarm/ never imports agent/ or node/.' },
      ] }],
    },
  })),
  // The scheduler and the orchestrator are pure logic over plain data: shared/ and their own files.
  {
    files: ['electron/swarm/scheduler/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [electronOnlyInShell, dockerodeOnlyInExecutor, updaterOnlyInMain], patterns: [nodeBuiltins, { group: ['../../agent/**', '../../node/**', '../../net/**', '../../raft/**', '../../protocol/**', '../../provision/**', '../../server/**', '../../cli/**', '../../main/**', '../../preload/**', '**/renderer/**', '../*.js', '../dispatcher/**', '../controlapi/**', '../roles/**', '../ca/**', '../orchestrator/**'], message: 'The scheduler imports only shared/.' }] }], '@typescript-eslint/no-restricted-imports': ['error', { patterns: [{ group: ['../state/**'], allowTypeImports: true, message: 'Only types from the store: the manager hands the scheduler plain data.' }] }] },
  },
  {
    files: ['electron/swarm/orchestrator/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [electronOnlyInShell, dockerodeOnlyInExecutor, updaterOnlyInMain], patterns: [nodeBuiltins, { group: ['../../agent/**', '../../node/**', '../../net/**', '../../raft/**', '../../protocol/**', '../../provision/**', '../../server/**', '../../cli/**', '../../main/**', '../../preload/**', '**/renderer/**', '../*.js', '../dispatcher/**', '../controlapi/**', '../roles/**', '../ca/**', '../scheduler/**'], message: 'The orchestrator imports only shared/.' }] }], '@typescript-eslint/no-restricted-imports': ['error', { patterns: [{ group: ['../state/**'], allowTypeImports: true, message: 'Only types from the store: the manager hands the orchestrator plain data.' }] }] },
  },
  {
    files: ['electron/raft/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [electronOnlyInShell, updaterOnlyInMain], patterns: [{ group: ['../../*', '!../../raft', '../../../*'], message: 'electron/raft imports nothing of Skep outside electron/raft.' }, { group: ['**/shared/**', '**/swarm/**', '**/net/**', '**/agent/**', '**/server/**', '**/cli/**', '**/provision/**', '**/main/**'], message: 'electron/raft imports nothing of Skep outside electron/raft.' }] }],
    },
  },
);
