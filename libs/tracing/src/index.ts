export * from './hub-tracing';
export * from './trace-context';
export * from './spans';
