import { sql, type Kysely } from 'kysely';

/**
 * Languages of the portal (P7, X1): the primary language decides every page and email; a portal
 * may offer more, chosen per visitor; each member may save a preference; admins may override any
 * catalogue message per portal and language. Frozen once merged.
 */
export async function up(db: Kysely<any>): Promise<void> {
  // Languages the portal offers besides its primary one, as a JSON array of codes.
  await db.schema.alterTable('portals').addColumn('languages', 'text', (c) => c.notNull().defaultTo('[]')).execute();
  // Dates and times on the portal's pages and emails are shown in this IANA time zone.
  await db.schema.alterTable('portals').addColumn('time_zone', 'text', (c) => c.notNull().defaultTo('UTC')).execute();
  // Until now any BCP 47 tag was accepted; only languages with a catalogue remain (en, pl).
  await db.updateTable('portals').set({ language: sql`case when lower(substr(language, 1, 2)) = 'pl' then 'pl' else 'en' end` })
    .where('language', 'not in', ['en', 'pl']).execute();

  await db.schema.alterTable('members').addColumn('language', 'text').execute();

  await db.schema
    .createTable('portal_messages')
    .addColumn('portal_id', 'integer', (c) => c.notNull().references('portals.id').onDelete('cascade'))
    .addColumn('language', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('portal_messages_pk', ['portal_id', 'language', 'key'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('portal_messages').execute();
  await db.schema.alterTable('members').dropColumn('language').execute();
  await db.schema.alterTable('portals').dropColumn('time_zone').execute();
  await db.schema.alterTable('portals').dropColumn('languages').execute();
}
