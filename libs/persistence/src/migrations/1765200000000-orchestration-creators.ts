import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Who created each orchestration: the name of the API key of the request that made it (null for those
 * made before Hub recorded it). What a tenant spent is summed per creating key (`GET /api/v1/usage`).
 */
export class OrchestrationCreators1765200000000 implements MigrationInterface {
  name = 'OrchestrationCreators1765200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE orchestrations ADD COLUMN created_by text NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE orchestrations DROP COLUMN created_by`);
  }
}
