import type { Kysely } from 'kysely';

/**
 * Staff password reset by mail: one-time links of which only the sha256 is kept, each good for
 * an hour and once. Frozen once merged.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('staff_password_resets')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('staff_user_id', 'integer', (c) => c.notNull().references('staff_users.id').onDelete('cascade'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .execute();
  await db.schema.createIndex('staff_password_resets_user').on('staff_password_resets').column('staff_user_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('staff_password_resets').execute();
}
