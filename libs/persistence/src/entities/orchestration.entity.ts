import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { OrchestrationResult } from '@hub/contracts';

@Entity({ name: 'orchestrations' })
export class OrchestrationEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ type: 'bigint', insert: false, update: false })
  seq!: string;

  @Column('text')
  name!: string;

  @Column({ name: 'max_parallel', type: 'int', nullable: true })
  maxParallel!: number | null;

  /** The branch its result is pushed to once every session completed, when it asked. */
  @Column({ name: 'publish_branch', type: 'text', nullable: true })
  publishBranch!: string | null;

  /** What it produced, recorded from a runner's `orchestration.result` once every session ended. */
  @Column({ type: 'jsonb', nullable: true })
  result!: OrchestrationResult | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
