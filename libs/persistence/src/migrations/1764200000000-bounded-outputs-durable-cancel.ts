import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Output file lists move to the object store (a manifest per session): the row keeps counts only,
 * so no message built from it can grow with what an agent wrote. The lists recorded before stay,
 * renamed legacy_output_files, and are still served for those sessions. Also: how much of a log
 * was dropped over the cap, and when a cancel was asked for (so a runner adopting the session
 * later honours it).
 */
export class BoundedOutputsDurableCancel1764200000000 implements MigrationInterface {
  name = 'BoundedOutputsDurableCancel1764200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE sessions RENAME COLUMN output_files TO legacy_output_files`);
    await queryRunner.query(`
      ALTER TABLE sessions
        ALTER COLUMN log_bytes TYPE bigint,
        ADD COLUMN log_dropped_bytes bigint NULL,
        ADD COLUMN output_file_count int NULL,
        ADD COLUMN output_bytes bigint NULL,
        ADD COLUMN output_skipped int NULL,
        ADD COLUMN cancel_requested_at timestamptz NULL`);
    await queryRunner.query(`
      UPDATE sessions SET
        log_dropped_bytes = 0,
        output_file_count = jsonb_array_length(legacy_output_files),
        output_bytes = (SELECT coalesce(sum((f->>'size')::bigint), 0) FROM jsonb_array_elements(legacy_output_files) f),
        output_skipped = 0
      WHERE log_bytes IS NOT NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE sessions
        DROP COLUMN log_dropped_bytes, DROP COLUMN output_file_count, DROP COLUMN output_bytes,
        DROP COLUMN output_skipped, DROP COLUMN cancel_requested_at,
        ALTER COLUMN log_bytes TYPE int`);
    await queryRunner.query(`ALTER TABLE sessions RENAME COLUMN legacy_output_files TO output_files`);
  }
}
