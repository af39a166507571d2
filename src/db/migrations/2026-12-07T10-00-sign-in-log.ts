import { PostgresAdapter, type Kysely } from 'kysely';

/**
 * A portal's sign-in log (C11): every sign-in and every refusal, with how, who and why, so
 * admins see what customers were told only as "Access denied". Kept for a bounded time (the
 * app purges it). Frozen once merged.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema
    .createTable('sign_in_events')
    .addColumn('id', 'integer', (c) => (pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement()))
    .addColumn('portal_id', 'integer', (c) => c.notNull().references('portals.id').onDelete('cascade'))
    .addColumn('occurred_at', 'bigint', (c) => c.notNull())
    // password, magic_link, invitation, reset, verify, sso
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('provider_id', 'integer', (c) => c.references('sso_providers.id').onDelete('set null'))
    // The provider's name then: the entry stays readable after the provider is removed.
    .addColumn('provider_name', 'text')
    .addColumn('email', 'text')
    .addColumn('subject', 'text')
    .addColumn('member_id', 'integer', (c) => c.references('members.id').onDelete('set null'))
    // signed_in, refused (the proof failed), denied (proven, but not let in)
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('detail', 'text')
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .execute();
  await db.schema.createIndex('sign_in_events_portal').on('sign_in_events').columns(['portal_id', 'occurred_at', 'id']).execute();
  await db.schema.createIndex('sign_in_events_occurred').on('sign_in_events').column('occurred_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('sign_in_events').execute();
}
