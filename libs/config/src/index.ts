export * from './load-config';
export * from './logger';
