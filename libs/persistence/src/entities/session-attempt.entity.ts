import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { SessionStatus, Usage } from '@hub/contracts';

/** One finished run of a session, in its own container. A retried session has several. */
@Entity({ name: 'session_attempts' })
export class SessionAttemptEntity {
  @PrimaryColumn({ name: 'session_id', type: 'uuid' })
  sessionId!: string;

  @PrimaryColumn('int')
  attempt!: number;

  /** The status this attempt ended the session in, or would have without a retry. */
  @Column('text')
  status!: SessionStatus;

  @Column({ type: 'text', nullable: true })
  reason!: string | null;

  @Column({ name: 'exit_code', type: 'int', nullable: true })
  exitCode!: number | null;

  @Column({ name: 'container_id', type: 'text', nullable: true })
  containerId!: string | null;

  @Column({ name: 'runner_id', type: 'text', nullable: true })
  runnerId!: string | null;

  /** What the attempt's agent reported spending, or null. */
  @Column({ type: 'jsonb', nullable: true })
  usage?: Usage | null;

  @Column({ name: 'finished_at', type: 'timestamptz' })
  finishedAt!: Date;
}
