export * from './nats-connection';
export * from './event-stream';
export * from './event-publisher';
export * from './rpc-client';
export * from './jetstream.server';
export * from './messaging.module';
export * from './run-service';
export * from './output-store';
