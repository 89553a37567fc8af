import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The W3C trace context (traceparent, tracestate) an outbox row was written in, for the relay to
 * continue that trace; and the one a session was created in, which its later events fall back on.
 * Null when tracing is off.
 */
export class TraceContext1765400000000 implements MigrationInterface {
  name = 'TraceContext1765400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE outbox ADD COLUMN trace_context jsonb NULL`);
    await queryRunner.query(`ALTER TABLE sessions ADD COLUMN trace_context jsonb NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE sessions DROP COLUMN trace_context`);
    await queryRunner.query(`ALTER TABLE outbox DROP COLUMN trace_context`);
  }
}
