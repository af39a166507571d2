import { PostgresAdapter, sql, type Kysely } from 'kysely';

/**
 * Incoming email (C6, P2): every message received is kept raw (its bytes in the file store, by
 * hash) before the SMTP listener answers 250, once per Message-ID; then it becomes a thread, or
 * waits in the failed-mail store. Inboxes say whether mail makes tickets; email channels may
 * poll an IMAP mailbox; outgoing mail can answer in a thread (In-Reply-To, References).
 * Frozen once merged.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema
    .createTable('inbound_mail')
    .addColumn('id', 'integer', (c) => (pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement()))
    // The Message-ID (normalised), or the raw bytes' hash when there is none: the same mail twice is stored once.
    .addColumn('dedupe_key', 'text', (c) => c.notNull().unique())
    .addColumn('message_id', 'text')
    .addColumn('channel_id', 'integer', (c) => c.references('channels.id').onDelete('set null'))
    .addColumn('source', 'text', (c) => c.notNull().check(sql`source in ('smtp', 'imap')`))
    .addColumn('envelope_from', 'text')
    .addColumn('recipients', 'text', (c) => c.notNull())
    .addColumn('raw_sha256', 'text', (c) => c.notNull())
    .addColumn('raw_size', 'integer', (c) => c.notNull())
    .addColumn('subject', 'text')
    .addColumn('from_address', 'text')
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('received', 'processed', 'ignored', 'failed')`))
    // Why it was ignored (an auto-reply, a bounce) or failed (it cannot be read).
    .addColumn('reason', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('thread_id', 'integer', (c) => c.references('threads.id').onDelete('set null'))
    .addColumn('message_row_id', 'integer', (c) => c.references('messages.id').onDelete('set null'))
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .addColumn('processed_at', 'bigint')
    .execute();
  await db.schema.createIndex('inbound_mail_status').on('inbound_mail').columns(['status', 'id']).execute();

  await db.schema.alterTable('outbox').addColumn('in_reply_to', 'text').execute();
  await db.schema.alterTable('outbox').addColumn('reference_ids', 'text').execute();

  await db.schema.alterTable('inboxes').addColumn('creates_tickets', 'integer', (c) => c.notNull().defaultTo(1)).execute();
  await db.schema.alterTable('inboxes').addColumn('pipeline_id', 'integer', (c) => c.references('pipelines.id').onDelete('set null')).execute();

  // An email channel may also fetch its mail from an IMAP mailbox: settings as JSON, the password sealed.
  await db.schema.alterTable('channels').addColumn('imap_settings', 'text').execute();
  await db.schema.alterTable('channels').addColumn('imap_secret', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('channels').dropColumn('imap_secret').execute();
  await db.schema.alterTable('channels').dropColumn('imap_settings').execute();
  await db.schema.alterTable('inboxes').dropColumn('pipeline_id').execute();
  await db.schema.alterTable('inboxes').dropColumn('creates_tickets').execute();
  await db.schema.alterTable('outbox').dropColumn('reference_ids').execute();
  await db.schema.alterTable('outbox').dropColumn('in_reply_to').execute();
  await db.schema.dropTable('inbound_mail').execute();
}
