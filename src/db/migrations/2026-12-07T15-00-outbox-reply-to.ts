import type { Kysely } from 'kysely';

/**
 * A mail's Reply-To: a staff reply names its inbox's address, so answering it reaches the
 * listener and lands in the thread. Frozen once merged.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('outbox').addColumn('reply_to_address', 'text').execute();
  await db.schema.alterTable('outbox').addColumn('reply_to_name', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('outbox').dropColumn('reply_to_name').execute();
  await db.schema.alterTable('outbox').dropColumn('reply_to_address').execute();
}
