import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { Scope } from '@hub/contracts';

/** An API key: its name, scope and tenant, and an HMAC of its secret (never the token itself). */
@Entity({ name: 'api_keys' })
export class ApiKeyEntity {
  /** Also in the token: `hub_<id without dashes>_<secret>`. */
  @PrimaryColumn('uuid')
  id!: string;

  /** Unique among the keys not revoked. */
  @Column('text')
  name!: string;

  @Column('text')
  scope!: Scope;

  @Column('text')
  tenant!: string;

  /** HMAC-SHA256 of the secret, keyed with the registry's pepper (32 bytes). */
  @Column({ name: 'secret_hash', type: 'bytea' })
  secretHash!: Buffer;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  /** The name of the key that created it. */
  @Column({ name: 'created_by', type: 'text' })
  createdBy!: string;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;

  /** Updated at most once a minute. */
  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt!: Date | null;
}
