import { MigrationInterface, QueryRunner } from 'typeorm';

/** What a session is told besides its prompt (claude-hub's `context`), kept apart from the prompt. */
export class SessionContext1764600000000 implements MigrationInterface {
  name = 'SessionContext1764600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE sessions ADD COLUMN context text NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE sessions DROP COLUMN context`);
  }
}
