export * from './hub-metrics';
export * from './metrics-listener';
