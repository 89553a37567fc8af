export * from './session-log.response';
export * from './live-log-format';
