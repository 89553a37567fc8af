import { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1764000000000 implements MigrationInterface {
  name = 'InitialSchema1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE orchestrations (
        id uuid PRIMARY KEY,
        seq bigserial NOT NULL UNIQUE,
        name text NOT NULL,
        max_parallel int NULL CHECK (max_parallel IS NULL OR max_parallel > 0),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE sessions (
        id uuid PRIMARY KEY,
        seq bigserial NOT NULL UNIQUE,
        orchestration_id uuid NOT NULL REFERENCES orchestrations(id),
        name text NULL,
        type text NOT NULL,
        prompt text NOT NULL,
        image text NOT NULL,
        repository text NULL,
        branch text NULL,
        timeout_seconds int NOT NULL CHECK (timeout_seconds > 0),
        status text NOT NULL CHECK (status IN
          ('created','waiting','ready','starting','running','completed','failed','cancelled','timed_out','skipped')),
        status_reason text NULL,
        exit_code int NULL,
        oom_killed boolean NULL,
        container_id text NULL,
        runner_id text NULL,
        attempt int NOT NULL DEFAULT 0,
        output_files jsonb NOT NULL DEFAULT '[]'::jsonb,
        log_bytes int NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz NULL,
        finished_at timestamptz NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (orchestration_id, name)
      )`);
    await queryRunner.query(`CREATE INDEX sessions_orchestration_seq ON sessions (orchestration_id, seq DESC)`);
    await queryRunner.query(`CREATE INDEX sessions_status_seq ON sessions (status, seq DESC)`);
    await queryRunner.query(`CREATE INDEX sessions_type_seq ON sessions (type, seq DESC)`);
    await queryRunner.query(`
      CREATE TABLE session_dependencies (
        session_id uuid NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        depends_on_id uuid NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        PRIMARY KEY (session_id, depends_on_id),
        CHECK (session_id <> depends_on_id)
      )`);
    await queryRunner.query(`CREATE INDEX session_dependencies_dependents ON session_dependencies (depends_on_id)`);
    await queryRunner.query(`
      CREATE TABLE outbox (
        seq bigserial PRIMARY KEY,
        event_id uuid NOT NULL UNIQUE,
        subject text NOT NULL,
        envelope jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz NULL
      )`);
    await queryRunner.query(`CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE outbox`);
    await queryRunner.query(`DROP TABLE session_dependencies`);
    await queryRunner.query(`DROP TABLE sessions`);
    await queryRunner.query(`DROP TABLE orchestrations`);
  }
}
