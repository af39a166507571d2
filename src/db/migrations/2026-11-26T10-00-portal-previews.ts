import { PostgresAdapter, type Kysely } from 'kysely';

/**
 * Staff viewing a portal as one of its members would (P28, P30), and the portal's navigation
 * menu (P23). A preview starts from a short-lived link whose token only the staff app saw; the
 * portal host turns it into a read-only preview session. Each preview stays as a record of who
 * looked as whom. Frozen once merged.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema
    .createTable('portal_previews')
    .addColumn('id', 'integer', (c) => (pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement()))
    .addColumn('portal_id', 'integer', (c) => c.notNull().references('portals.id').onDelete('cascade'))
    .addColumn('member_id', 'integer', (c) => c.notNull().references('members.id').onDelete('cascade'))
    .addColumn('staff_user_id', 'integer', (c) => c.notNull().references('staff_users.id').onDelete('cascade'))
    // sha256 of the link's token; the link works once, until link_expires_at.
    .addColumn('link_hash', 'text', (c) => c.notNull().unique())
    .addColumn('link_expires_at', 'bigint', (c) => c.notNull())
    .addColumn('opened_at', 'bigint')
    // sha256 of the preview cookie the portal host set when the link was opened.
    .addColumn('session_hash', 'text', (c) => c.unique())
    .addColumn('session_expires_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('portal_previews_portal').on('portal_previews').columns(['portal_id', 'created_at']).execute();
  // The navigation menu: JSON [{label, url}], shown in the portal's header.
  await db.schema.alterTable('portals').addColumn('menu', 'text', (c) => c.notNull().defaultTo('[]')).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('portals').dropColumn('menu').execute();
  await db.schema.dropTable('portal_previews').execute();
}
