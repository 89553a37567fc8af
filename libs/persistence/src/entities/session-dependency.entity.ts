import { Column, Entity, PrimaryColumn } from 'typeorm';

/** "session_id depends on depends_on_id". Indexed both ways: dependencies and dependents. */
@Entity({ name: 'session_dependencies' })
export class SessionDependencyEntity {
  @PrimaryColumn({ name: 'session_id', type: 'uuid' })
  sessionId!: string;

  @PrimaryColumn({ name: 'depends_on_id', type: 'uuid' })
  dependsOnId!: string;

  /** Where it stands in the session's declared dependencies: their changes are merged in this order. */
  @Column({ type: 'int', default: 0 })
  position!: number;
}
