export * from './entities/orchestration.entity';
export * from './entities/session.entity';
export * from './entities/session-dependency.entity';
export * from './entities/session-attempt.entity';
export * from './entities/outbox-event.entity';
export * from './entities/notification-delivery.entity';
export * from './data-source';
