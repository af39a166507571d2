import { PostgresAdapter, sql, type Kysely } from 'kysely';

/**
 * Customer portals and their members. Frozen once merged: never import application code here.
 * Same conventions as the core migration: integer ids, ms times, 0/1 flags, JSON as text.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const key = pg ? sql`text collate "C"` : sql`text`;
  const time = 'bigint' as const;

  await db.schema
    .createTable('portals')
    .addColumn('id', 'integer', (c) => (pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement()))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(0))
    // Shown in the browser tab while a customer is signed in (P5).
    .addColumn('title', 'text', (c) => c.notNull())
    // The host the portal answers on, lower-cased, e.g. support.example.com (P6).
    .addColumn('domain', key, (c) => c.unique())
    .addColumn('slug', 'text', (c) => c.notNull())
    .addColumn('language', 'text', (c) => c.notNull())
    // Which tickets a member sees: their contact's, or also their primary company's (P18).
    .addColumn('scope', 'text', (c) => c.notNull().check(sql`scope in ('contact', 'company')`))
    // Filter conditions on ticket properties, all of which a ticket must meet (P15, P17).
    .addColumn('filters', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('default_inbox_id', 'integer', (c) => c.references('inboxes.id').onDelete('set null'))
    .addColumn('show_custom_stages', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('idle_timeout_minutes', 'integer', (c) => c.notNull())
    // Sign-in methods, as a JSON array: "password" now; more arrive with registration and SSO.
    .addColumn('sign_in_methods', 'text', (c) => c.notNull().defaultTo('["password"]'))
    .addColumn('consent_text', 'text')
    .addColumn('consent_label', 'text')
    // Logo, favicon and colours, as JSON (P22).
    .addColumn('branding', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('updated_at', time, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('members')
    .addColumn('id', 'integer', (c) => (pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement()))
    .addColumn('portal_id', 'integer', (c) => c.notNull().references('portals.id').onDelete('cascade'))
    .addColumn('contact_id', 'integer', (c) => c.notNull().references('contacts.id').onDelete('cascade'))
    .addColumn('password_hash', 'text')
    .addColumn('failed_sign_ins', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('locked_until', time)
    .addColumn('last_sign_in_at', time)
    .addColumn('disabled_at', time)
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('updated_at', time, (c) => c.notNull())
    .addUniqueConstraint('members_portal_contact', ['portal_id', 'contact_id'])
    .execute();
  await db.schema.createIndex('members_contact').on('members').column('contact_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('members').execute();
  await db.schema.dropTable('portals').execute();
}
