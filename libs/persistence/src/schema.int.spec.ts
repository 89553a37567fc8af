// The entities are the one description of each row; the migrations build the tables. This spec builds
// a database from the migrations alone (real PostgreSQL) and compares every entity with its table:
// tables, columns, types, nullability, defaults and primary keys. An entity changed without a
// migration, or a migration without its entity, fails here.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Column, DataSource, Entity, PrimaryColumn } from 'typeorm';
import { makeTempDir, startPostgresCluster, type PostgresCluster } from '@hub/infra';
import { openDatabase } from './data-source';

/** A column as the entities or as the database see it. */
interface ColumnShape {
  table: string;
  column: string;
  type: string;
  nullable: boolean;
  hasDefault: boolean;
  primary: boolean;
}

const COMPARED = ['type', 'nullable', 'hasDefault', 'primary'] as const;

/** The columns the data source's entities describe. A column the entity never inserts is the database's to fill. */
function entityColumns(dataSource: DataSource): ColumnShape[] {
  return dataSource.entityMetadatas.flatMap((entity) =>
    entity.columns.map((c) => ({
      table: entity.tableName,
      column: c.databaseName,
      type: dataSource.driver.normalizeType(c),
      nullable: c.isNullable,
      hasDefault: c.default !== undefined || c.isCreateDate || c.isUpdateDate || c.isGenerated || !c.isInsert,
      primary: c.isPrimary,
    })),
  );
}

/** The columns of the tables in the database (TypeORM's own migrations table aside). */
function tableColumns(dataSource: DataSource, tables?: string[]): Promise<ColumnShape[]> {
  return dataSource.query(
    `SELECT c.table_name AS "table", c.column_name AS "column", c.data_type AS type,
            c.is_nullable = 'YES' AS nullable, c.column_default IS NOT NULL AS "hasDefault",
            EXISTS (SELECT 1 FROM information_schema.table_constraints t
                      JOIN information_schema.key_column_usage k
                        ON k.constraint_schema = t.constraint_schema AND k.constraint_name = t.constraint_name
                     WHERE t.constraint_type = 'PRIMARY KEY' AND t.table_schema = c.table_schema
                       AND t.table_name = c.table_name AND k.column_name = c.column_name) AS primary
       FROM information_schema.columns c
      WHERE c.table_schema = current_schema() AND c.table_name <> $1 AND ($2::text[] IS NULL OR c.table_name = ANY($2))
      ORDER BY c.table_name, c.ordinal_position`,
    [dataSource.options.migrationsTableName ?? 'migrations', tables ?? null],
  );
}

/** Every way the entities and the tables disagree, one line each. */
function differences(entities: ColumnShape[], tables: ColumnShape[]): string[] {
  const key = (c: ColumnShape) => `${c.table}.${c.column}`;
  const inTables = new Map(tables.map((c) => [key(c), c]));
  const inEntities = new Map(entities.map((c) => [key(c), c]));
  const found: string[] = [];
  for (const [name, described] of inEntities) {
    const built = inTables.get(name);
    if (!built) {
      found.push(`${name}: in an entity, not in the migrations`);
      continue;
    }
    for (const field of COMPARED) {
      if (described[field] !== built[field]) {
        found.push(`${name}: ${field} is ${described[field]} in the entity, ${built[field]} in the migrations`);
      }
    }
  }
  for (const name of inTables.keys()) {
    if (!inEntities.has(name)) found.push(`${name}: in the migrations, not in any entity`);
  }
  return found;
}

/** session_attempts as an entity that drifted from its migration, to show the comparison sees it. */
@Entity({ name: 'session_attempts' })
class DriftedAttemptEntity {
  @PrimaryColumn({ name: 'session_id', type: 'uuid' })
  sessionId!: string;

  @PrimaryColumn('int')
  attempt!: number;

  @Column({ type: 'text', nullable: true })
  status!: string | null;

  @Column({ name: 'exit_code', type: 'bigint', nullable: true })
  exitCode!: string | null;

  @Column({ type: 'text', nullable: true })
  stderr!: string | null;
}

describe('entities and migrations (real PostgreSQL)', () => {
  let dir: string;
  let postgres: PostgresCluster;
  let dataSource: DataSource;

  beforeAll(async () => {
    dir = await makeTempDir('hub-schema');
    postgres = await startPostgresCluster({ dataDir: join(dir, 'pg'), fsync: false });
    dataSource = await openDatabase(postgres.url, 2);
  }, 120_000);

  afterAll(async () => {
    await dataSource?.destroy();
    await postgres?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('describe the tables the migrations build: the same columns, types, nullability, defaults and keys', async () => {
    const tables = await tableColumns(dataSource);
    expect(tables.length).toBeGreaterThan(0);
    expect(differences(entityColumns(dataSource), tables)).toEqual([]);
  });

  it('are told apart from a table when one of them drifts', async () => {
    const drifted = new DataSource({ type: 'postgres', url: postgres.url, entities: [DriftedAttemptEntity], extra: { max: 1 } });
    await drifted.initialize();
    try {
      expect(differences(entityColumns(drifted), await tableColumns(drifted, ['session_attempts']))).toEqual([
        'session_attempts.status: nullable is true in the entity, false in the migrations',
        'session_attempts.exit_code: type is bigint in the entity, integer in the migrations',
        'session_attempts.stderr: in an entity, not in the migrations',
        'session_attempts.reason: in the migrations, not in any entity',
        'session_attempts.container_id: in the migrations, not in any entity',
        'session_attempts.runner_id: in the migrations, not in any entity',
        'session_attempts.finished_at: in the migrations, not in any entity',
        'session_attempts.usage: in the migrations, not in any entity',
      ]);
    } finally {
      await drifted.destroy();
    }
  });
});
