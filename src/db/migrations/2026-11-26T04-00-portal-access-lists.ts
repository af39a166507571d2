import type { Kysely } from 'kysely';

/**
 * Access by contact lists (P10): a portal may name lists whose contacts are invited, and then
 * only those contacts may sign in. Frozen once merged.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('portal_access_lists')
    .addColumn('portal_id', 'integer', (c) => c.notNull().references('portals.id').onDelete('cascade'))
    .addColumn('list_id', 'integer', (c) => c.notNull().references('contact_lists.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('portal_access_lists_pk', ['portal_id', 'list_id'])
    .execute();
  await db.schema.createIndex('portal_access_lists_list').on('portal_access_lists').column('list_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('portal_access_lists').execute();
}
