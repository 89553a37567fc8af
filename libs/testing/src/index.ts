// Fixtures for tests only: the module-boundaries check lets nothing but spec files (and the e2e suite) import this lib.
export * from './session-view.builder';
export * from './in-memory-hub-api';
export * from './git-test-fixtures';
