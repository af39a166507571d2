import type { Kysely } from 'kysely';

/**
 * The portal's help-center home: how often each knowledge base article has been read on a
 * portal (its popular articles), and whether a portal's navigation lists the knowledge base.
 * Frozen once merged.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('kb_articles').addColumn('views', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.createIndex('kb_articles_popular').on('kb_articles').columns(['published', 'views']).execute();
  await db.schema.alterTable('portals').addColumn('kb_in_menu', 'integer', (c) => c.notNull().defaultTo(1)).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('portals').dropColumn('kb_in_menu').execute();
  await db.schema.dropIndex('kb_articles_popular').execute();
  await db.schema.alterTable('kb_articles').dropColumn('views').execute();
}
