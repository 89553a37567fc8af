import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Runner leases: the runners the registry has seen in their heartbeats (when last, what they said,
 * when their lease lapsed), and an index on the sessions each runner holds, which the lease check
 * reads every few seconds.
 */
export class RunnerLeases1765550000000 implements MigrationInterface {
  name = 'RunnerLeases1765550000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE runners (
        id text PRIMARY KEY CHECK (char_length(id) BETWEEN 1 AND 64),
        first_seen_at timestamptz NOT NULL DEFAULT now(),
        last_seen_at timestamptz NOT NULL,
        heartbeat_revision bigint NULL,
        heartbeat_every_ms int NOT NULL CHECK (heartbeat_every_ms > 0),
        started_at timestamptz NULL,
        slots int NOT NULL DEFAULT 0,
        in_use int NOT NULL DEFAULT 0,
        labels jsonb NOT NULL DEFAULT '[]'::jsonb,
        version text NULL,
        lost_at timestamptz NULL
      )`);
    await queryRunner.query(`CREATE INDEX sessions_held_by_runner ON sessions (runner_id) WHERE status IN ('starting', 'running')`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX sessions_held_by_runner`);
    await queryRunner.query(`DROP TABLE runners`);
  }
}
