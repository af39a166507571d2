import { PostgresAdapter, sql, type Kysely } from 'kysely';

/**
 * The ticket search index: one search document per ticket (its subject and the customer-visible
 * messages of its newest thread, reduced to words by src/util/search-text.ts), kept by the
 * application in the transaction that changes them. SQLite indexes the documents with FTS5
 * (external content, kept in step by triggers, as the FTS5 manual describes); PostgreSQL with a
 * generated tsvector of exactly those words and a GIN index. Frozen once merged: never import application code here.
 * Documents of tickets that exist before this migration are written at the next start.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema
    .createTable('ticket_search')
    .addColumn('ticket_id', 'integer', (c) => c.primaryKey().references('tickets.id').onDelete('cascade'))
    .addColumn('doc', 'text', (c) => c.notNull())
    .execute();
  if (pg) {
    // The document's words as they are, each at its position: PostgreSQL's text-search parser
    // would split some of them again (1e5abc is a number and a word to it), and the application's
    // word rules are the only ones. Positions stop at tsvector's limit, 16383.
    await sql`create function portico_search_vector(doc text) returns tsvector
      language sql immutable strict parallel safe
      as $$ select coalesce(string_agg('''' || w || ''':' || least(i, 16383), ' ')::tsvector, ''::tsvector)
            from unnest(string_to_array(btrim(doc), ' ')) with ordinality as x(w, i) where w <> '' $$`.execute(db);
    await sql`alter table ticket_search add column tsv tsvector generated always as (portico_search_vector(doc)) stored`.execute(db);
    await sql`create index ticket_search_tsv on ticket_search using gin (tsv)`.execute(db);
    return;
  }
  // The documents are already lower case and without diacritics; unicode61 only splits them.
  await sql`create virtual table ticket_search_fts using fts5(doc, content='ticket_search', content_rowid='ticket_id', tokenize='unicode61 remove_diacritics 0')`.execute(db);
  await sql`create trigger ticket_search_ai after insert on ticket_search begin
    insert into ticket_search_fts(rowid, doc) values (new.ticket_id, new.doc);
  end`.execute(db);
  await sql`create trigger ticket_search_ad after delete on ticket_search begin
    insert into ticket_search_fts(ticket_search_fts, rowid, doc) values ('delete', old.ticket_id, old.doc);
  end`.execute(db);
  await sql`create trigger ticket_search_au after update on ticket_search begin
    insert into ticket_search_fts(ticket_search_fts, rowid, doc) values ('delete', old.ticket_id, old.doc);
    insert into ticket_search_fts(rowid, doc) values (new.ticket_id, new.doc);
  end`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  if (!pg) await sql`drop table if exists ticket_search_fts`.execute(db);
  await db.schema.dropTable('ticket_search').execute();
  if (pg) await sql`drop function if exists portico_search_vector(text)`.execute(db);
}
