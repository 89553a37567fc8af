import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An orchestration may ask for its result to be pushed (`publish_branch`), and keeps what it produced
 * once every session ended (`result`: the combined change of its final sessions, and what became of
 * the push), recorded from a runner's `orchestration.result`.
 */
export class OrchestrationResults1764400000000 implements MigrationInterface {
  name = 'OrchestrationResults1764400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE orchestrations ADD COLUMN publish_branch text NULL`);
    await queryRunner.query(`ALTER TABLE orchestrations ADD COLUMN result jsonb NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE orchestrations DROP COLUMN result`);
    await queryRunner.query(`ALTER TABLE orchestrations DROP COLUMN publish_branch`);
  }
}
