// The ESLint configuration every package uses: the workspace rules, plus checks that each
// package.json declares the dependencies its code imports.
import baseConfig from './eslint.config.mjs';

export default [
  ...baseConfig,
  {
    files: ['**/*.json'],
    rules: {
      '@nx/dependency-checks': [
        'error',
        {
          ignoredFiles: [
            '{projectRoot}/eslint.config.{js,cjs,mjs}',
            '{projectRoot}/jest.config.cjs',
            '{projectRoot}/src/**/*.spec.ts',
            '{projectRoot}/src/test-support/**',
          ],
        },
      ],
    },
    languageOptions: { parser: await import('jsonc-eslint-parser') },
  },
];
