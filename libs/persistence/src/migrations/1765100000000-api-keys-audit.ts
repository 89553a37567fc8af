import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * API keys (a hash of each secret, never the token; a name unique among the keys not revoked) and
 * the audit log of writes: who (a key's name and tenant) did what on what.
 */
export class ApiKeysAudit1765100000000 implements MigrationInterface {
  name = 'ApiKeysAudit1765100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY,
        name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 64),
        scope text NOT NULL CHECK (scope IN ('read','write','admin')),
        tenant text NOT NULL CHECK (char_length(tenant) BETWEEN 1 AND 63),
        secret_hash bytea NOT NULL CHECK (octet_length(secret_hash) = 32),
        created_at timestamptz NOT NULL DEFAULT now(),
        created_by text NOT NULL,
        revoked_at timestamptz NULL,
        last_used_at timestamptz NULL
      )`);
    await queryRunner.query(`CREATE UNIQUE INDEX api_keys_live_name ON api_keys (name) WHERE revoked_at IS NULL`);
    await queryRunner.query(`CREATE INDEX api_keys_newest ON api_keys (created_at DESC, id DESC)`);
    await queryRunner.query(`
      CREATE TABLE audit_log (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        key text NOT NULL,
        tenant text NOT NULL,
        action text NOT NULL,
        target_type text NULL,
        target_id text NULL,
        detail jsonb NULL CHECK (detail IS NULL OR octet_length(detail::text) <= 4096)
      )`);
    await queryRunner.query(`CREATE INDEX audit_log_tenant ON audit_log (tenant, id DESC)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE audit_log`);
    await queryRunner.query(`DROP TABLE api_keys`);
  }
}
