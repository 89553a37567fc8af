import { MigrationInterface, QueryRunner } from 'typeorm';

/** Why a cancel was asked for, when Hub asked it itself (a spent budget); null: a client's request. */
export class CancelReason1765300000000 implements MigrationInterface {
  name = 'CancelReason1765300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE sessions ADD COLUMN cancel_reason text NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE sessions DROP COLUMN cancel_reason`);
  }
}
