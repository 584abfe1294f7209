// Lint rules, including the one-way layering of design.md:
// http, sip, cli → services → domain ← store; the media plane imports none of them.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const layer = (files, forbidden, why) => ({
  files,
  rules: {
    'no-restricted-imports': [
      'error',
      { patterns: forbidden.map((group) => ({ group: [group], message: why })) },
    ],
  },
});

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'data/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // Type-aware checks, as mediasoup runs: a promise nobody awaits or catches, or one passed
    // where a plain callback is expected, is an error (a rejection there would go unseen).
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', URLSearchParams: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  layer(['src/domain/**'], ['**/services/**', '**/http/**', '**/store/**', '**/sip/**', '**/media/**', '**/cli/**', '**/app.js', '**/config.js'], 'domain/ is pure: it imports nothing but itself and errors.ts'),
  layer(['src/store/**'], ['**/services/**', '**/http/**', '**/sip/**', '**/media/**', '**/cli/**', '**/app.js'], 'store/ implements domain ports; it must not import services or the edges'),
  layer(['src/services/**'], ['**/http/**', '**/store/**', '**/sip/**', '**/media/**', '**/cli/**', '**/app.js', 'fastify'], 'services/ use domain ports, never the edges or a concrete store'),
  layer(['src/http/**'], ['**/store/**', '**/sip/**', '**/media/**', '**/cli/**', '**/app.js'], 'http/ talks to services only'),
  layer(['src/twiml/**'], ['**/domain/**', '**/services/**', '**/http/**', '**/store/**', '**/sip/**', '**/media/**', '**/cli/**', '**/events/**', '**/webhooks/**', '**/app.js', '**/config.js'], 'twiml/ is a pure parser: it imports only itself, errors.ts and fast-xml-parser'),
  layer(['src/webhooks/**'], ['**/services/**', '**/http/**', '**/store/**', '**/sip/**', '**/media/**', '**/cli/**', '**/events/**', '**/twiml/**', '**/app.js', '**/config.js', 'fastify'], 'webhooks/ imports only itself, net/, errors.ts, domain types, node built-ins and undici'),
  layer(['src/net/**'], ['**/domain/**', '**/services/**', '**/http/**', '**/store/**', '**/sip/**', '**/media/**', '**/cli/**', '**/events/**', '**/twiml/**', '**/webhooks/**', '**/audio/**', '**/endpoints/**', '**/app.js', '**/config.js', 'fastify'], 'net/ is the outbound policy under webhooks/ and audio/: node built-ins and undici only'),
  layer(['src/media/**'], ['**/domain/**', '**/services/**', '**/http/**', '**/store/**', '**/sip/**', '**/events/**'], 'the media plane imports none of the control plane'),
  {
    // Only config.ts reads the environment.
    files: ['src/**'],
    ignores: ['src/config.ts'],
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'read configuration in src/config.ts only' }],
    },
  },
);
