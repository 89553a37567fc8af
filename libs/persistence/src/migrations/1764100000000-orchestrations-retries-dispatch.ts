import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Retries (a session's retry budget and the record of each attempt) and dispatch under an
 * orchestration's maxParallel (when a ready session was handed to the runners).
 */
export class OrchestrationsRetriesDispatch1764100000000 implements MigrationInterface {
  name = 'OrchestrationsRetriesDispatch1764100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE sessions
        ADD COLUMN retries int NOT NULL DEFAULT 0 CHECK (retries >= 0),
        ADD COLUMN ready_at timestamptz NULL,
        ADD COLUMN dispatched_at timestamptz NULL`);
    await queryRunner.query(`CREATE INDEX sessions_orchestration_status ON sessions (orchestration_id, status)`);
    await queryRunner.query(`
      CREATE INDEX sessions_undispatched ON sessions (orchestration_id, ready_at)
        WHERE status = 'ready' AND dispatched_at IS NULL`);
    await queryRunner.query(`
      CREATE TABLE session_attempts (
        session_id uuid NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        attempt int NOT NULL,
        status text NOT NULL,
        reason text NULL,
        exit_code int NULL,
        container_id text NULL,
        runner_id text NULL,
        finished_at timestamptz NOT NULL,
        PRIMARY KEY (session_id, attempt)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE session_attempts`);
    await queryRunner.query(`DROP INDEX sessions_undispatched`);
    await queryRunner.query(`DROP INDEX sessions_orchestration_status`);
    await queryRunner.query(`ALTER TABLE sessions DROP COLUMN retries, DROP COLUMN ready_at, DROP COLUMN dispatched_at`);
  }
}
