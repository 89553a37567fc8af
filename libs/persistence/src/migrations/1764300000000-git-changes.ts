import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Sessions work in git workspaces: what a session changed (branch, base and head commits, counts) is
 * kept on its row (the file list, diff and bundle are in the object store), and each dependency
 * keeps the position it was declared in, the order in which dependencies' changes are merged.
 */
export class GitChanges1764300000000 implements MigrationInterface {
  name = 'GitChanges1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE sessions ADD COLUMN changes jsonb NULL`);
    await queryRunner.query(`ALTER TABLE session_dependencies ADD COLUMN position int NOT NULL DEFAULT 0`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE session_dependencies DROP COLUMN position`);
    await queryRunner.query(`ALTER TABLE sessions DROP COLUMN changes`);
  }
}
