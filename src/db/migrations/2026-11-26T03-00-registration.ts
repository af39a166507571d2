import { PostgresAdapter, sql, type Kysely } from 'kysely';

/**
 * Self-registration (P9, P14, P29): the portal's switch, members whose email is not verified yet,
 * and the record of each consent given. Frozen once merged.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema.alterTable('portals').addColumn('self_registration', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  // Null until the member follows the emailed link; members made by staff count as verified.
  await db.schema.alterTable('members').addColumn('verified_at', 'bigint').execute();
  await db.updateTable('members').set({ verified_at: sql`created_at` }).execute();

  await db.schema
    .createTable('consents')
    .addColumn('id', 'integer', (c) => (pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement()))
    .addColumn('portal_id', 'integer', (c) => c.notNull().references('portals.id').onDelete('cascade'))
    .addColumn('member_id', 'integer', (c) => c.notNull().references('members.id').onDelete('cascade'))
    // sha256 of the notice and label as shown: which version the member answered.
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('notice', 'text', (c) => c.notNull())
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('accepted', 'integer', (c) => c.notNull())
    .addColumn('ip', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('consents_member').on('consents').columns(['member_id', 'created_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('consents').execute();
  await db.schema.alterTable('members').dropColumn('verified_at').execute();
  await db.schema.alterTable('portals').dropColumn('self_registration').execute();
}
