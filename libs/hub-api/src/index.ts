export * from './hub-api.port';
export * from './http-problem';
export * from './output-contents';
export * from './collect-sessions';
export * from './http-hub-api';
export * from './server-sent-events';
export * from './event-stream';
