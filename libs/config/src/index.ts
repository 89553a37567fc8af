export * from './load-config';
export * from './logger';
export * from './process-handlers';
export * from './supervisor-status';
