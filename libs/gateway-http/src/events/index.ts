export * from './event-filter';
export * from './sse-writer';
export * from './live-events.service';
