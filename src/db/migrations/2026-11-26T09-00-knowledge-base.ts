import { PostgresAdapter, sql, type ColumnDefinitionBuilder, type Kysely } from 'kysely';

/**
 * The knowledge base (C8, P24): categories and articles written in Markdown (kept with their
 * sanitised HTML and a search document), public on the portal hosts, searched by the same word
 * index as tickets (FTS5 on SQLite, the portico_search_vector tsvector on PostgreSQL). A portal
 * may link its knowledge base pages to its tickets ("Go to …"). Frozen once merged.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const id = (c: ColumnDefinitionBuilder) => (pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement());
  await db.schema
    .createTable('kb_categories')
    .addColumn('id', 'integer', id)
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('description', 'text')
    .addColumn('position', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('kb_articles')
    .addColumn('id', 'integer', id)
    .addColumn('category_id', 'integer', (c) => c.notNull().references('kb_categories.id').onDelete('restrict'))
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('body_markdown', 'text', (c) => c.notNull())
    .addColumn('body_html', 'text', (c) => c.notNull())
    .addColumn('search_doc', 'text', (c) => c.notNull())
    .addColumn('published', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('kb_articles_category').on('kb_articles').columns(['category_id', 'published', 'title']).execute();
  await db.schema.alterTable('portals').addColumn('kb_portal_link', 'integer', (c) => c.notNull().defaultTo(1)).execute();
  if (pg) {
    await sql`alter table kb_articles add column tsv tsvector generated always as (portico_search_vector(search_doc)) stored`.execute(db);
    await sql`create index kb_articles_tsv on kb_articles using gin (tsv)`.execute(db);
    return;
  }
  await sql`create virtual table kb_articles_fts using fts5(search_doc, content='kb_articles', content_rowid='id', tokenize='unicode61 remove_diacritics 0')`.execute(db);
  await sql`create trigger kb_articles_ai after insert on kb_articles begin
    insert into kb_articles_fts(rowid, search_doc) values (new.id, new.search_doc);
  end`.execute(db);
  await sql`create trigger kb_articles_ad after delete on kb_articles begin
    insert into kb_articles_fts(kb_articles_fts, rowid, search_doc) values ('delete', old.id, old.search_doc);
  end`.execute(db);
  await sql`create trigger kb_articles_au after update on kb_articles begin
    insert into kb_articles_fts(kb_articles_fts, rowid, search_doc) values ('delete', old.id, old.search_doc);
    insert into kb_articles_fts(rowid, search_doc) values (new.id, new.search_doc);
  end`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  if (!pg) await sql`drop table if exists kb_articles_fts`.execute(db);
  await db.schema.alterTable('portals').dropColumn('kb_portal_link').execute();
  await db.schema.dropTable('kb_articles').execute();
  await db.schema.dropTable('kb_categories').execute();
}
