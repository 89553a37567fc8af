export * from './dependency-decision';
export * from './resolve-dependencies.use-case';
