import { PostgresAdapter, type Kysely } from 'kysely';

/**
 * Support forms (C7, P25, P37): fields mapped to ticket properties, each form connected to an
 * inbox; a portal names the form its "Submit a support ticket" link opens. Frozen once merged.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema
    .createTable('forms')
    .addColumn('id', 'integer', (c) => (pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement()))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('inbox_id', 'integer', (c) => c.notNull().references('inboxes.id').onDelete('restrict'))
    // The fields, in order, as JSON: key, label, type, required, options, and the ticket property each fills.
    .addColumn('fields', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.alterTable('portals').addColumn('form_id', 'integer', (c) => c.references('forms.id').onDelete('set null')).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('portals').dropColumn('form_id').execute();
  await db.schema.dropTable('forms').execute();
}
