import type { Kysely } from 'kysely';

/**
 * Used JWT ids and SAML assertion ids were kept per provider, so a token used on one portal's
 * provider worked again on another's configured with the same secret, issuer and audience. They
 * are now kept under the hash of what names them (the issuer and the id), whichever provider saw
 * them, and outlive a deleted provider. The rows kept so far hold only a hash of the id without
 * its issuer and cannot be carried over: they are dropped (they lived at most a token's or an
 * assertion's lifetime). Frozen once merged.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('sso_replays').execute();
  await db.schema
    .createTable('sso_replays')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sso_replays_expires').on('sso_replays').column('expires_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('sso_replays').execute();
  await db.schema
    .createTable('sso_replays')
    .addColumn('provider_id', 'integer', (c) => c.notNull().references('sso_providers.id').onDelete('cascade'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('sso_replays_pk', ['provider_id', 'key'])
    .execute();
  await db.schema.createIndex('sso_replays_expires').on('sso_replays').column('expires_at').execute();
}
