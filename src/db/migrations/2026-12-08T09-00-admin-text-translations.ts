import type { Kysely } from 'kysely';

const TABLES = ['portals', 'stages', 'forms', 'kb_categories', 'kb_articles'] as const;

/**
 * Text admins type, in more than one language (X1): each table whose text customers read gets
 * its translations as JSON, `{ "<language>": { "<field>": "text", … } }` (forms: per field key its
 * label, help and options). Null: no translations, every visitor reads the text as written.
 * Frozen once merged.
 */
export async function up(db: Kysely<any>): Promise<void> {
  for (const table of TABLES) await db.schema.alterTable(table).addColumn('translations', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [...TABLES].reverse()) await db.schema.alterTable(table).dropColumn('translations').execute();
}
