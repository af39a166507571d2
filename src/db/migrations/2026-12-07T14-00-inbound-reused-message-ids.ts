import type { Kysely } from 'kysely';

/**
 * Incoming mail is known by its Message-ID and what it says, not by the Message-ID alone: a mail
 * that reuses another's Message-ID is kept, pointing at the earlier one. Frozen once merged.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('inbound_mail').addColumn('duplicate_of', 'integer', (c) => c.references('inbound_mail.id').onDelete('set null')).execute();
  await db.schema.createIndex('inbound_mail_message_id').on('inbound_mail').column('message_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('inbound_mail_message_id').execute();
  await db.schema.alterTable('inbound_mail').dropColumn('duplicate_of').execute();
}
