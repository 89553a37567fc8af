export * from './dependency-decision';
export * from './resolve-dependencies.use-case';
export * from './recheck-waiting-sessions';
export * from './resolver.tokens';
export * from './resolver.module';
