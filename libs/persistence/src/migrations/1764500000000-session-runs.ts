import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An ended session may be run again on request (a re-run). `run` counts its runs (1, then one more
 * per re-run): the resolver's decisions name the run they are about. `attempts_before_run` is how
 * many attempts the earlier runs took: the attempt counter goes on across runs, and the retry budget
 * counts only the attempts after it.
 */
export class SessionRuns1764500000000 implements MigrationInterface {
  name = 'SessionRuns1764500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE sessions ADD COLUMN run int NOT NULL DEFAULT 1`);
    await queryRunner.query(`ALTER TABLE sessions ADD COLUMN attempts_before_run int NOT NULL DEFAULT 0`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE sessions DROP COLUMN attempts_before_run`);
    await queryRunner.query(`ALTER TABLE sessions DROP COLUMN run`);
  }
}
