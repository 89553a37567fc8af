export * from './load-config';
export * from './logger';
export * from './periodic-task';
export * from './process-handlers';
export * from './supervisor-status';
