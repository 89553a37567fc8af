// Shared jest settings for every project: SWC compiles TypeScript with decorator metadata
// (NestJS dependency injection needs it) and the @hub/* aliases resolve to the libs' sources.
const path = require('node:path');
const { compilerOptions } = require('./tsconfig.base.json');

const moduleNameMapper = Object.fromEntries(
  Object.entries(compilerOptions.paths).map(([alias, [target]]) => [
    `^${alias}$`,
    path.join(__dirname, target),
  ]),
);

/**
 * The three test tiers, told apart by file name, so each can run alone (`npm run test:unit`, …):
 * - unit, `*.spec.ts`: no process started (no PostgreSQL, NATS, Docker or service); seconds.
 * - integration, `*.int.spec.ts`: the real PostgreSQL, nats-server or Docker engine, started by the test.
 * - e2e, `*.e2e.spec.ts`: the whole stack (apps/hub-e2e).
 * The Nx targets `unit`, `integration` and `e2e` (nx.json) set HUB_TEST_TIER; without it every tier runs.
 */
const TIERS = {
  unit: { testMatch: ['<rootDir>/**/*.spec.ts'], testPathIgnorePatterns: ['\\.int\\.spec\\.ts$', '\\.e2e\\.spec\\.ts$'] },
  integration: { testMatch: ['<rootDir>/**/*.int.spec.ts'] },
  e2e: { testMatch: ['<rootDir>/**/*.e2e.spec.ts'] },
  all: { testMatch: ['<rootDir>/**/*.spec.ts'] },
};
const tier = process.env.HUB_TEST_TIER ?? 'all';
if (!TIERS[tier]) throw new Error(`HUB_TEST_TIER must be one of ${Object.keys(TIERS).join(', ')}, not '${tier}'`);

module.exports = {
  testEnvironment: 'node',
  ...TIERS[tier],
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper,
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          target: 'es2022',
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
        },
        module: { type: 'commonjs' },
      },
    ],
  },
};
