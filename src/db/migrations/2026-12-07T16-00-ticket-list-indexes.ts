import type { Kysely } from 'kysely';

/**
 * The staff ticket list sorts by subject too: (subject, id) lets a page of that order (and the
 * keyset step to the next) come off an index. Frozen once merged.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('tickets_subject').on('tickets').columns(['subject', 'id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('tickets_subject').execute();
}
