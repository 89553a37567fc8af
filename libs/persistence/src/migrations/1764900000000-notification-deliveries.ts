import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Outbound notifications: one row per notification and webhook, unique per webhook and event (an
 * event delivered twice records nothing more), with what became of each attempt.
 */
export class NotificationDeliveries1764900000000 implements MigrationInterface {
  name = 'NotificationDeliveries1764900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE notification_deliveries (
        id uuid PRIMARY KEY,
        webhook text NOT NULL,
        event_id text NOT NULL,
        kind text NOT NULL,
        subject text NOT NULL,
        payload text NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','delivered','failed')),
        attempts int NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        last_status_code int NULL,
        last_error text NULL CHECK (char_length(last_error) <= 1000),
        next_attempt_at timestamptz NULL,
        delivered_at timestamptz NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (webhook, event_id)
      )`);
    await queryRunner.query(`CREATE INDEX notification_deliveries_due ON notification_deliveries (next_attempt_at) WHERE status = 'pending'`);
    await queryRunner.query(`CREATE INDEX notification_deliveries_newest ON notification_deliveries (created_at DESC, id DESC)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE notification_deliveries`);
  }
}
