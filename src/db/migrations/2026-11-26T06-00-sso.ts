import { PostgresAdapter, sql, type Kysely } from 'kysely';

/**
 * Single sign-on (P12, P13, X2): identity providers per portal (SAML 2.0, JWT, OpenID Connect),
 * the identities they vouch for, keyed by (provider, subject), the sign-ins in flight, and the
 * assertion ids and `jti`s already used. Frozen once merged.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema
    .createTable('sso_providers')
    .addColumn('id', 'integer', (c) => (pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement()))
    .addColumn('portal_id', 'integer', (c) => c.notNull().references('portals.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('saml', 'jwt', 'oidc')`))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
    // What the provider's kind needs that is not secret, as JSON (returned by the API).
    .addColumn('settings', 'text', (c) => c.notNull())
    // Shared secrets and private keys, as JSON sealed with the configured key (never returned).
    .addColumn('secrets', 'text')
    // A verified email of a new subject may create a contact (otherwise only existing contacts sign in).
    .addColumn('create_contacts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sso_providers_portal').on('sso_providers').column('portal_id').execute();

  await db.schema
    .createTable('member_identities')
    .addColumn('id', 'integer', (c) => (pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement()))
    .addColumn('provider_id', 'integer', (c) => c.notNull().references('sso_providers.id').onDelete('cascade'))
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('member_id', 'integer', (c) => c.notNull().references('members.id').onDelete('cascade'))
    // The address the provider asserted, and how the link was made ('email' or 'created').
    .addColumn('email', 'text')
    .addColumn('linked_by', 'text', (c) => c.notNull().check(sql`linked_by in ('email', 'created')`))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_sign_in_at', 'bigint')
    .addUniqueConstraint('member_identities_subject', ['provider_id', 'subject'])
    .execute();
  await db.schema.createIndex('member_identities_member').on('member_identities').column('member_id').execute();

  // A sign-in in flight: SAML AuthnRequest ids, OpenID Connect state with its nonce and PKCE
  // verifier, where to return. Keyed by a hash; bound to the browser where the flow allows it.
  await db.schema
    .createTable('sso_flows')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('provider_id', 'integer', (c) => c.notNull().references('sso_providers.id').onDelete('cascade'))
    .addColumn('browser_hash', 'text')
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sso_flows_expires').on('sso_flows').column('expires_at').execute();

  // Assertion ids and JWT ids already used, kept until the assertion or token expires.
  await db.schema
    .createTable('sso_replays')
    .addColumn('provider_id', 'integer', (c) => c.notNull().references('sso_providers.id').onDelete('cascade'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('sso_replays_pk', ['provider_id', 'key'])
    .execute();
  await db.schema.createIndex('sso_replays_expires').on('sso_replays').column('expires_at').execute();

  // P13: who may sign in by SSO: everyone ('all'), or contacts on the portal's SSO lists ('lists').
  await db.schema.alterTable('portals').addColumn('sso_audience', 'text', (c) => c.notNull().defaultTo('all')).execute();
  await db.schema
    .createTable('portal_sso_lists')
    .addColumn('portal_id', 'integer', (c) => c.notNull().references('portals.id').onDelete('cascade'))
    .addColumn('list_id', 'integer', (c) => c.notNull().references('contact_lists.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('portal_sso_lists_pk', ['portal_id', 'list_id'])
    .execute();
  await db.schema.createIndex('portal_sso_lists_list').on('portal_sso_lists').column('list_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('portal_sso_lists').execute();
  await db.schema.alterTable('portals').dropColumn('sso_audience').execute();
  await db.schema.dropTable('sso_replays').execute();
  await db.schema.dropTable('sso_flows').execute();
  await db.schema.dropTable('member_identities').execute();
  await db.schema.dropTable('sso_providers').execute();
}
