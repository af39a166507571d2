import { sql, type Kysely } from 'kysely';

/**
 * One-time tokens of portal members (registration, invitation, password reset, magic link,
 * email change): only a hash is stored; each is single use and expires. Frozen once merged.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('one_time_tokens')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('purpose', 'text', (c) => c.notNull().check(sql`purpose in ('verify', 'invite', 'reset', 'magic', 'email')`))
    .addColumn('portal_id', 'integer', (c) => c.notNull().references('portals.id').onDelete('cascade'))
    .addColumn('member_id', 'integer', (c) => c.notNull().references('members.id').onDelete('cascade'))
    // What the link confirms, where it carries something: the new address of an email change.
    .addColumn('payload', 'text')
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('one_time_tokens_member').on('one_time_tokens').columns(['member_id', 'purpose']).execute();
  await db.schema.createIndex('one_time_tokens_expires').on('one_time_tokens').column('expires_at').execute();
  // Mail to one address in the last hour: how requests for links are limited per recipient.
  await db.schema.createIndex('outbox_recipient').on('outbox').columns(['to_address', 'created_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('outbox_recipient').execute();
  await db.schema.dropTable('one_time_tokens').execute();
}
