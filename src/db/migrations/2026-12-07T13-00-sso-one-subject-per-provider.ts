import { sql, type Kysely } from 'kysely';

/**
 * One member holds at most one subject per identity provider. Before this, a second, new subject
 * whose verified address was a member's got linked to that member too, and so got the account.
 * Links made that way are removed (the member's oldest link per provider is the one kept; the
 * others came later, through the address), then (provider_id, member_id) is made unique.
 * Frozen once merged.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`delete from member_identities where id not in (select min(id) from member_identities group by provider_id, member_id)`.execute(db);
  await db.schema.createIndex('member_identities_provider_member').on('member_identities').columns(['provider_id', 'member_id']).unique().execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('member_identities_provider_member').execute();
}
