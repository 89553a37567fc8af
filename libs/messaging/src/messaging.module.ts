import { DynamicModule, Global, Module } from '@nestjs/common';
import { NatsConnection } from 'nats';
import { EventPublisher } from './event-publisher';
import { NATS_CONNECTION } from './nats-connection';
import { RpcClient } from './rpc-client';

/** Provides the service's NATS connection, the event publisher and the request/reply client. */
@Global()
@Module({})
export class MessagingModule {
  static forConnection(nc: NatsConnection): DynamicModule {
    return {
      module: MessagingModule,
      providers: [{ provide: NATS_CONNECTION, useValue: nc }, EventPublisher, RpcClient],
      exports: [NATS_CONNECTION, EventPublisher, RpcClient],
    };
  }
}
