import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The runner labels a session requires (its runnerLabels, sorted): only a runner with every one of them
 * (HUB_RUNNER_LABELS) runs it. Empty for every session before: any runner. The ready sessions that
 * require labels are indexed apart: a runner's readiness check counts them by label set.
 */
export class SessionRunnerLabels1765610000000 implements MigrationInterface {
  name = 'SessionRunnerLabels1765610000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE sessions ADD COLUMN runner_labels jsonb NOT NULL DEFAULT '[]'::jsonb`);
    await queryRunner.query(`CREATE INDEX sessions_ready_with_labels ON sessions (ready_at) WHERE status = 'ready' AND runner_labels <> '[]'::jsonb`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX sessions_ready_with_labels`);
    await queryRunner.query(`ALTER TABLE sessions DROP COLUMN runner_labels`);
  }
}
