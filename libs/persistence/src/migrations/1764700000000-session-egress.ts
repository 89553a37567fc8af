import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Egress through Hub's proxy: the destinations a session asked to reach (null: its image's
 * allowance), and what its last attempt reached or was refused (bounded, as `container.exited` carries it).
 */
export class SessionEgress1764700000000 implements MigrationInterface {
  name = 'SessionEgress1764700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE sessions ADD COLUMN egress jsonb NULL`);
    await queryRunner.query(`ALTER TABLE sessions ADD COLUMN egress_traffic jsonb NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE sessions DROP COLUMN egress_traffic`);
    await queryRunner.query(`ALTER TABLE sessions DROP COLUMN egress`);
  }
}
