import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { NotificationDeliveryStatus, NotificationKind } from '@hub/contracts';

/**
 * One notification to one webhook: recorded when its event arrives (at most once per webhook and
 * event), then tried until it is delivered or has used its attempts.
 */
@Entity({ name: 'notification_deliveries' })
export class NotificationDeliveryEntity {
  /** Also the Hub-Delivery header and the body's `id`. */
  @PrimaryColumn('uuid')
  id!: string;

  /** The webhook's name (its URL and secret stay in the operator's configuration). */
  @Column('text')
  webhook!: string;

  @Column({ name: 'event_id', type: 'text' })
  eventId!: string;

  @Column('text')
  kind!: NotificationKind;

  /** The subject of the event it is about. */
  @Column('text')
  subject!: string;

  /** The body to send, exactly as it is signed and sent. */
  @Column('text')
  payload!: string;

  @Column({ type: 'text', default: 'pending' })
  status!: NotificationDeliveryStatus;

  @Column({ type: 'int', default: 0 })
  attempts!: number;

  @Column({ name: 'last_status_code', type: 'int', nullable: true })
  lastStatusCode!: number | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  /** When it is due (pending), else null. */
  @Column({ name: 'next_attempt_at', type: 'timestamptz', nullable: true })
  nextAttemptAt!: Date | null;

  @Column({ name: 'delivered_at', type: 'timestamptz', nullable: true })
  deliveredAt!: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}
