export * from './claude-hub.schemas';
export * from './claude-hub-mapping';
export * from './claude-hub-webhook.service';
