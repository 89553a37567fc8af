import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { EventEnvelope } from '@hub/contracts';
import type { TraceContext } from '@hub/tracing';

/** An event written in the same transaction as the change it reports; relayed to JetStream. */
@Entity({ name: 'outbox' })
export class OutboxEventEntity {
  @PrimaryColumn({ type: 'bigint', insert: false, update: false })
  seq!: string;

  @Column({ name: 'event_id', type: 'uuid' })
  eventId!: string;

  @Column('text')
  subject!: string;

  @Column('jsonb')
  envelope!: EventEnvelope;

  /** The trace context it was written in (W3C traceparent, tracestate): the relay's publish continues it. Null when tracing is off. */
  @Column({ name: 'trace_context', type: 'jsonb', nullable: true })
  traceContext!: TraceContext | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'published_at', type: 'timestamptz', nullable: true })
  publishedAt!: Date | null;
}
