import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What agents spend and what may be spent: each attempt's usage (from its usage.json), each
 * session's total over every attempt, each orchestration's total and its budget (with the budget
 * thresholds already announced); and which session a session continues (`POST /sessions/:id/continue`).
 */
export class UsageBudgetsContinuations1764800000000 implements MigrationInterface {
  name = 'UsageBudgetsContinuations1764800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE session_attempts ADD COLUMN usage jsonb NULL`);
    await queryRunner.query(`ALTER TABLE sessions ADD COLUMN usage jsonb NULL`);
    await queryRunner.query(`ALTER TABLE sessions ADD COLUMN continues uuid NULL REFERENCES sessions(id) ON DELETE SET NULL`);
    await queryRunner.query(`CREATE INDEX sessions_continues_idx ON sessions (continues) WHERE continues IS NOT NULL`);
    await queryRunner.query(`ALTER TABLE orchestrations ADD COLUMN usage jsonb NULL`);
    await queryRunner.query(`ALTER TABLE orchestrations ADD COLUMN budget jsonb NULL`);
    await queryRunner.query(`ALTER TABLE orchestrations ADD COLUMN budget_thresholds_announced jsonb NOT NULL DEFAULT '[]'::jsonb`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE orchestrations DROP COLUMN budget_thresholds_announced`);
    await queryRunner.query(`ALTER TABLE orchestrations DROP COLUMN budget`);
    await queryRunner.query(`ALTER TABLE orchestrations DROP COLUMN usage`);
    await queryRunner.query(`DROP INDEX sessions_continues_idx`);
    await queryRunner.query(`ALTER TABLE sessions DROP COLUMN continues`);
    await queryRunner.query(`ALTER TABLE sessions DROP COLUMN usage`);
    await queryRunner.query(`ALTER TABLE session_attempts DROP COLUMN usage`);
  }
}
