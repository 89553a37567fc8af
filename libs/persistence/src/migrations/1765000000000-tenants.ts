import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tenants: every orchestration and session belongs to one (an API key's), `default` for everything
 * made before. A session's tenant is its orchestration's, copied at insert so that a tenant's lists
 * and its count of sessions in flight read one table; the foreign key on (orchestration_id, tenant)
 * holds the copy to the original.
 */
export class Tenants1765000000000 implements MigrationInterface {
  name = 'Tenants1765000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE orchestrations ADD COLUMN tenant text NOT NULL DEFAULT 'default'`);
    await queryRunner.query(`ALTER TABLE orchestrations ADD CONSTRAINT orchestrations_id_tenant UNIQUE (id, tenant)`);
    await queryRunner.query(`CREATE INDEX orchestrations_tenant_seq ON orchestrations (tenant, seq DESC)`);
    await queryRunner.query(`ALTER TABLE sessions ADD COLUMN tenant text NOT NULL DEFAULT 'default'`);
    await queryRunner.query(`
      ALTER TABLE sessions ADD CONSTRAINT sessions_orchestration_tenant
        FOREIGN KEY (orchestration_id, tenant) REFERENCES orchestrations (id, tenant)`);
    await queryRunner.query(`CREATE INDEX sessions_tenant_seq ON sessions (tenant, seq DESC)`);
    // A limited tenant's sessions in flight, and its ready ones not yet handed out (ReadyDispatch).
    await queryRunner.query(`CREATE INDEX sessions_tenant_status ON sessions (tenant, status)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX sessions_tenant_status`);
    await queryRunner.query(`DROP INDEX sessions_tenant_seq`);
    await queryRunner.query(`ALTER TABLE sessions DROP CONSTRAINT sessions_orchestration_tenant`);
    await queryRunner.query(`ALTER TABLE sessions DROP COLUMN tenant`);
    await queryRunner.query(`DROP INDEX orchestrations_tenant_seq`);
    await queryRunner.query(`ALTER TABLE orchestrations DROP CONSTRAINT orchestrations_id_tenant`);
    await queryRunner.query(`ALTER TABLE orchestrations DROP COLUMN tenant`);
  }
}
