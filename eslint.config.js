// @ts-check
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

/**
 * The linter: JavaScript's and typescript-eslint's recommended rules (without type information,
 * so that it runs in seconds), formatting left to Prettier. The import rules of
 * docs/architecture.md are checked by test/architecture/imports.test.ts.
 */
export default tseslint.config(
  { ignores: ['node_modules/**', 'data/**', 'coverage/**', '**/*.generated.*'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    rules: {
      // `_name` marks a value taken on purpose and not used (a destructured field left out of a copy)
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          caughtErrors: 'none',
        },
      ],
    },
  },
  {
    // reference values printed with more digits than a double holds: the parser rounds them to the
    // nearest double, which is the value the test compares
    files: ['test/measure/cases.ts'],
    rules: { 'no-loss-of-precision': 'off' },
  },
  {
    files: ['test/**'],
    rules: {
      // tests read JSON answers whose shape the assertions check
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
);
