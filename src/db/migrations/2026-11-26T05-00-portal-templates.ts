import type { Kysely } from 'kysely';

/** A portal's own Liquid templates, replacing the default theme's by name (P11, P21). Frozen once merged. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('portal_templates')
    .addColumn('portal_id', 'integer', (c) => c.notNull().references('portals.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('portal_templates_pk', ['portal_id', 'name'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('portal_templates').execute();
}
