export * from './free-port';
export * from './process-tree';
export * from './postgres-binaries';
export * from './postgres-cluster';
export * from './postgres-database';
export * from './nats-server';
export * from './docker-engine';
export * from './service-user';
