import { PostgresAdapter, type Kysely } from 'kysely';

/**
 * Saved views of the staff ticket list (C10): a name, the list's filters, sort and columns;
 * shared (no owner) or one staff member's own. Two shared views every staff member starts
 * with, which cannot be changed: their open tickets, and the open tickets nobody owns.
 * Frozen once merged.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema
    .createTable('ticket_views')
    .addColumn('id', 'integer', (c) => (pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement()))
    .addColumn('name', 'text', (c) => c.notNull())
    // Null: shared with every staff member. Otherwise the one staff member who sees it.
    .addColumn('staff_user_id', 'integer', (c) => c.references('staff_users.id').onDelete('cascade'))
    .addColumn('built_in', 'integer', (c) => c.notNull().defaultTo(0))
    // JSON: the list's filters ("owner": "me" stands for whoever opens the view).
    .addColumn('filters', 'text', (c) => c.notNull())
    .addColumn('sort', 'text')
    // JSON: the columns shown, in order; null for the default set.
    .addColumn('columns', 'text')
    .addColumn('created_by_staff_id', 'integer', (c) => c.references('staff_users.id').onDelete('set null'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('ticket_views_owner').on('ticket_views').columns(['staff_user_id', 'id']).execute();
  const at = Date.UTC(2026, 11, 7, 16, 10);
  await db.insertInto('ticket_views').values([
    { name: 'My open tickets', staff_user_id: null, built_in: 1, filters: JSON.stringify({ owner: 'me', status: 'open' }), sort: null, columns: null, created_by_staff_id: null, created_at: at, updated_at: at },
    { name: 'Unassigned', staff_user_id: null, built_in: 1, filters: JSON.stringify({ owner: 'none', status: 'open' }), sort: null, columns: null, created_by_staff_id: null, created_at: at, updated_at: at },
  ]).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('ticket_views').execute();
}
