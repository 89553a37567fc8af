import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { Budget, OrchestrationResult, Usage } from '@hub/contracts';

@Entity({ name: 'orchestrations' })
export class OrchestrationEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ type: 'bigint', insert: false, update: false })
  seq!: string;

  @Column('text')
  name!: string;

  /** Whose it is: the tenant of the API key that created it (`default`, DEFAULT_TENANT, for all made before tenants). */
  @Column({ type: 'text', default: 'default' })
  tenant!: string;

  /** The name of the API key whose request created it; null for those made before Hub recorded it. */
  @Column({ name: 'created_by', type: 'text', nullable: true })
  createdBy!: string | null;

  @Column({ name: 'max_parallel', type: 'int', nullable: true })
  maxParallel!: number | null;

  /** The branch its result is pushed to once every session completed, when it asked. */
  @Column({ name: 'publish_branch', type: 'text', nullable: true })
  publishBranch!: string | null;

  /** What it produced, recorded from a runner's `orchestration.result` once every session ended. */
  @Column({ type: 'jsonb', nullable: true })
  result!: OrchestrationResult | null;

  /** What its sessions spent, every attempt added up as reported; null until one reported. */
  @Column({ type: 'jsonb', nullable: true })
  usage!: Usage | null;

  /** The cap on what its sessions may spend, or null. */
  @Column({ type: 'jsonb', nullable: true })
  budget!: Budget | null;

  /** The budget thresholds announced already (`tokens:80`, `usd:100`…), so each is announced once. */
  @Column({ name: 'budget_thresholds_announced', type: 'jsonb', default: () => "'[]'::jsonb" })
  budgetThresholdsAnnounced!: string[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
