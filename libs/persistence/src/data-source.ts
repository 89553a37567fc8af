import { DataSource } from 'typeorm';
import { OrchestrationEntity } from './entities/orchestration.entity';
import { OutboxEventEntity } from './entities/outbox-event.entity';
import { SessionAttemptEntity } from './entities/session-attempt.entity';
import { SessionDependencyEntity } from './entities/session-dependency.entity';
import { SessionEntity } from './entities/session.entity';
import { NotificationDeliveryEntity } from './entities/notification-delivery.entity';
import { ApiKeyEntity } from './entities/api-key.entity';
import { AuditEntryEntity } from './entities/audit-entry.entity';
import { RunnerEntity } from './entities/runner.entity';
import { InitialSchema1764000000000 } from './migrations/1764000000000-initial-schema';
import { OrchestrationsRetriesDispatch1764100000000 } from './migrations/1764100000000-orchestrations-retries-dispatch';
import { BoundedOutputsDurableCancel1764200000000 } from './migrations/1764200000000-bounded-outputs-durable-cancel';
import { GitChanges1764300000000 } from './migrations/1764300000000-git-changes';
import { OrchestrationResults1764400000000 } from './migrations/1764400000000-orchestration-results';
import { SessionRuns1764500000000 } from './migrations/1764500000000-session-runs';
import { SessionContext1764600000000 } from './migrations/1764600000000-session-context';
import { SessionEgress1764700000000 } from './migrations/1764700000000-session-egress';
import { UsageBudgetsContinuations1764800000000 } from './migrations/1764800000000-usage-budgets-continuations';
import { NotificationDeliveries1764900000000 } from './migrations/1764900000000-notification-deliveries';
import { Tenants1765000000000 } from './migrations/1765000000000-tenants';
import { ApiKeysAudit1765100000000 } from './migrations/1765100000000-api-keys-audit';
import { OrchestrationCreators1765200000000 } from './migrations/1765200000000-orchestration-creators';
import { CancelReason1765300000000 } from './migrations/1765300000000-cancel-reason';
import { TraceContext1765400000000 } from './migrations/1765400000000-trace-context';
import { RunnerLeases1765550000000 } from './migrations/1765550000000-runner-leases';
import { SessionRunnerLabels1765610000000 } from './migrations/1765610000000-session-runner-labels';

export const ENTITIES = [OrchestrationEntity, SessionEntity, SessionDependencyEntity, SessionAttemptEntity, OutboxEventEntity, NotificationDeliveryEntity, ApiKeyEntity, AuditEntryEntity, RunnerEntity];
export const MIGRATIONS = [
  InitialSchema1764000000000,
  OrchestrationsRetriesDispatch1764100000000,
  BoundedOutputsDurableCancel1764200000000,
  GitChanges1764300000000,
  OrchestrationResults1764400000000,
  SessionRuns1764500000000,
  SessionContext1764600000000,
  SessionEgress1764700000000,
  UsageBudgetsContinuations1764800000000,
  NotificationDeliveries1764900000000,
  Tenants1765000000000,
  ApiKeysAudit1765100000000,
  OrchestrationCreators1765200000000,
  CancelReason1765300000000,
  TraceContext1765400000000,
  RunnerLeases1765550000000,
  SessionRunnerLabels1765610000000,
];

/** The registry's database. Migrations, never `synchronize`, shape the schema. */
export function createDataSource(url: string, poolSize = 10): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false,
    extra: { max: poolSize, connectionTimeoutMillis: 5_000 },
  });
}

/** Connects and applies pending migrations; returns the names of those it applied. */
export async function openDatabase(url: string, poolSize?: number): Promise<DataSource> {
  const dataSource = createDataSource(url, poolSize);
  await dataSource.initialize();
  await dataSource.runMigrations();
  return dataSource;
}
