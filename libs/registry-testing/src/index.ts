export * from './registry-harness';
