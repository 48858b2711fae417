// Jest runs the integration tests against a real Postgres started once for the whole run.
// Type-checking is `npm run typecheck` (module node16); Jest only transpiles, to CommonJS, because
// Prisma's generated client loads its query compiler with import(), which Jest's CommonJS runtime
// cannot run unless TypeScript turns it into require().
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.jest.json', diagnostics: false }] },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 60_000,
  maxWorkers: 2,
};
