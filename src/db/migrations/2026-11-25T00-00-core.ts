import { PostgresAdapter, sql, type CreateTableBuilder, type Kysely } from 'kysely';

/**
 * The help-desk core. Frozen once merged: never import application code here.
 * Conventions: integer ids; times are integer milliseconds since the epoch, UTC; flags are
 * integers 0/1; JSON is stored as text. Both dialects get the same shapes.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;

  function table(name: string): CreateTableBuilder<string, 'id'> {
    return db.schema
      .createTable(name)
      .addColumn('id', 'integer', (c) =>
        pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement(),
      );
  }
  const time = 'bigint' as const;
  // Keys that lists sort by or match by prefix (a range scan) compare byte by byte on both
  // dialects: SQLite's BINARY collation, and "C" on PostgreSQL, whatever the database's locale.
  const key = pg ? sql`text collate "C"` : sql`text`;

  await table('staff_users')
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('email_key', key, (c) => c.notNull().unique())
    .addColumn('name', key, (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('admin', 'agent')`))
    .addColumn('permissions', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('password_hash', 'text')
    .addColumn('failed_sign_ins', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('locked_until', time)
    .addColumn('disabled_at', time)
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('updated_at', time, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('staff_sessions')
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    .addColumn('staff_user_id', 'integer', (c) => c.notNull().references('staff_users.id').onDelete('cascade'))
    .addColumn('csrf_token', 'text', (c) => c.notNull())
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('last_seen_at', time, (c) => c.notNull())
    .addColumn('expires_at', time, (c) => c.notNull())
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .execute();
  await db.schema.createIndex('staff_sessions_user').on('staff_sessions').column('staff_user_id').execute();
  await db.schema.createIndex('staff_sessions_expires').on('staff_sessions').column('expires_at').execute();

  await table('api_tokens')
    .addColumn('staff_user_id', 'integer', (c) => c.notNull().references('staff_users.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('token_prefix', 'text', (c) => c.notNull())
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('last_used_at', time)
    .addColumn('expires_at', time)
    .addColumn('revoked_at', time)
    .execute();
  await db.schema.createIndex('api_tokens_user').on('api_tokens').column('staff_user_id').execute();

  await table('companies')
    .addColumn('name', key, (c) => c.notNull())
    .addColumn('domain', 'text')
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('updated_at', time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('companies_name').on('companies').columns(['name', 'id']).execute();
  await db.schema.createIndex('companies_domain').on('companies').column('domain').execute();
  await db.schema.createIndex('companies_updated').on('companies').columns(['updated_at', 'id']).execute();

  await table('contacts')
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('email_key', key, (c) => c.notNull().unique())
    .addColumn('first_name', 'text')
    .addColumn('last_name', 'text')
    .addColumn('phone', 'text')
    .addColumn('primary_company_id', 'integer', (c) => c.references('companies.id').onDelete('set null'))
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('updated_at', time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('contacts_primary_company').on('contacts').column('primary_company_id').execute();
  await db.schema.createIndex('contacts_updated').on('contacts').columns(['updated_at', 'id']).execute();

  await db.schema
    .createTable('contact_companies')
    .addColumn('contact_id', 'integer', (c) => c.notNull().references('contacts.id').onDelete('cascade'))
    .addColumn('company_id', 'integer', (c) => c.notNull().references('companies.id').onDelete('cascade'))
    .addColumn('created_at', time, (c) => c.notNull())
    .addPrimaryKeyConstraint('contact_companies_pk', ['contact_id', 'company_id'])
    .execute();
  await db.schema.createIndex('contact_companies_company').on('contact_companies').columns(['company_id', 'contact_id']).execute();

  await table('contact_lists')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('static', 'active')`))
    .addColumn('filters', 'text')
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('updated_at', time, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('list_members')
    .addColumn('list_id', 'integer', (c) => c.notNull().references('contact_lists.id').onDelete('cascade'))
    .addColumn('contact_id', 'integer', (c) => c.notNull().references('contacts.id').onDelete('cascade'))
    .addColumn('added_at', time, (c) => c.notNull())
    .addPrimaryKeyConstraint('list_members_pk', ['list_id', 'contact_id'])
    .execute();
  await db.schema.createIndex('list_members_contact').on('list_members').columns(['contact_id', 'list_id']).execute();

  await table('pipelines')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('updated_at', time, (c) => c.notNull())
    .execute();

  await table('stages')
    .addColumn('pipeline_id', 'integer', (c) => c.notNull().references('pipelines.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('open', 'closed')`))
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('updated_at', time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('stages_pipeline').on('stages').columns(['pipeline_id', 'position']).execute();

  await table('ticket_properties')
    .addColumn('key', 'text', (c) => c.notNull().unique())
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) =>
      c.notNull().check(sql`type in ('text', 'number', 'boolean', 'date', 'enumeration')`),
    )
    .addColumn('options', 'text')
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('updated_at', time, (c) => c.notNull())
    .execute();

  await table('tickets')
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('pipeline_id', 'integer', (c) => c.notNull().references('pipelines.id').onDelete('restrict'))
    .addColumn('stage_id', 'integer', (c) => c.notNull().references('stages.id').onDelete('restrict'))
    .addColumn('is_closed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('priority', 'text')
    .addColumn('category', 'text')
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('owner_id', 'integer', (c) => c.references('staff_users.id').onDelete('set null'))
    .addColumn('properties', 'text', (c) => c.notNull().defaultTo('{}'))
    // Goes up by one with every change to the ticket; copied onto its associations.
    .addColumn('revision', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('updated_at', time, (c) => c.notNull())
    .addColumn('last_activity_at', time, (c) => c.notNull())
    .addColumn('closed_at', time)
    .execute();
  await db.schema.createIndex('tickets_activity').on('tickets').columns(['last_activity_at', 'id']).execute();
  await db.schema.createIndex('tickets_created').on('tickets').columns(['created_at', 'id']).execute();
  await db.schema.createIndex('tickets_pipeline_activity').on('tickets').columns(['pipeline_id', 'last_activity_at', 'id']).execute();
  await db.schema.createIndex('tickets_stage_activity').on('tickets').columns(['stage_id', 'last_activity_at', 'id']).execute();
  await db.schema.createIndex('tickets_owner_activity').on('tickets').columns(['owner_id', 'last_activity_at', 'id']).execute();

  for (const [assoc, other, otherTable] of [
    ['ticket_contacts', 'contact_id', 'contacts'],
    ['ticket_companies', 'company_id', 'companies'],
  ] as const) {
    await db.schema
      .createTable(assoc)
      .addColumn('ticket_id', 'integer', (c) => c.notNull().references('tickets.id').onDelete('cascade'))
      .addColumn(other, 'integer', (c) => c.notNull().references(`${otherTable}.id`).onDelete('cascade'))
      // Copied from tickets.last_activity_at and tickets.revision so that a contact's (or
      // company's) newest tickets, and whether a cached rendering of each is still current,
      // come straight off one index, whatever the table's size.
      .addColumn('last_activity_at', time, (c) => c.notNull())
      .addColumn('ticket_revision', 'integer', (c) => c.notNull().defaultTo(1))
      .addPrimaryKeyConstraint(`${assoc}_pk`, ['ticket_id', other])
      .execute();
    await db.schema
      .createIndex(`${assoc}_by_activity`)
      .on(assoc)
      .columns([other, 'last_activity_at desc', 'ticket_id desc', 'ticket_revision'])
      .execute();
  }

  await table('inboxes')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('updated_at', time, (c) => c.notNull())
    .execute();

  await table('channels')
    .addColumn('inbox_id', 'integer', (c) => c.notNull().references('inboxes.id').onDelete('cascade'))
    .addColumn('type', 'text', (c) => c.notNull().check(sql`type in ('email', 'form', 'chat', 'portal')`))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('address', 'text')
    .addColumn('address_key', key, (c) => c.unique())
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('updated_at', time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('channels_inbox').on('channels').column('inbox_id').execute();

  await table('threads')
    .addColumn('inbox_id', 'integer', (c) => c.notNull().references('inboxes.id').onDelete('restrict'))
    .addColumn('channel_id', 'integer', (c) => c.references('channels.id').onDelete('set null'))
    .addColumn('ticket_id', 'integer', (c) => c.references('tickets.id').onDelete('set null'))
    .addColumn('contact_id', 'integer', (c) => c.references('contacts.id').onDelete('set null'))
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('open', 'closed')`))
    .addColumn('assignee_id', 'integer', (c) => c.references('staff_users.id').onDelete('set null'))
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('updated_at', time, (c) => c.notNull())
    .addColumn('last_message_at', time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('threads_inbox_status').on('threads').columns(['inbox_id', 'status', 'last_message_at', 'id']).execute();
  await db.schema.createIndex('threads_assignee').on('threads').columns(['assignee_id', 'status', 'last_message_at', 'id']).execute();
  await db.schema.createIndex('threads_activity').on('threads').columns(['last_message_at', 'id']).execute();
  await db.schema.createIndex('threads_ticket').on('threads').columns(['ticket_id', 'created_at', 'id']).execute();
  await db.schema.createIndex('threads_contact').on('threads').column('contact_id').execute();

  await table('messages')
    .addColumn('thread_id', 'integer', (c) => c.notNull().references('threads.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('message', 'comment')`))
    .addColumn('author_type', 'text', (c) => c.notNull().check(sql`author_type in ('customer', 'staff', 'system')`))
    .addColumn('contact_id', 'integer', (c) => c.references('contacts.id').onDelete('set null'))
    .addColumn('staff_user_id', 'integer', (c) => c.references('staff_users.id').onDelete('set null'))
    .addColumn('body_text', 'text', (c) => c.notNull())
    .addColumn('body_html', 'text')
    .addColumn('created_at', time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('messages_thread').on('messages').columns(['thread_id', 'id']).execute();

  await table('attachments')
    .addColumn('message_id', 'integer', (c) => c.references('messages.id').onDelete('cascade'))
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('filename', 'text', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('uploaded_by_staff_id', 'integer', (c) => c.references('staff_users.id').onDelete('set null'))
    .addColumn('created_at', time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('attachments_message').on('attachments').column('message_id').execute();
  await db.schema.createIndex('attachments_sha256').on('attachments').column('sha256').execute();

  await table('engagements')
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('occurred_at', time, (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('body', 'text')
    .addColumn('ticket_id', 'integer', (c) => c.references('tickets.id').onDelete('set null'))
    .addColumn('thread_id', 'integer', (c) => c.references('threads.id').onDelete('set null'))
    .addColumn('message_id', 'integer', (c) => c.references('messages.id').onDelete('set null'))
    .addColumn('staff_user_id', 'integer', (c) => c.references('staff_users.id').onDelete('set null'))
    .addColumn('created_at', time, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('engagement_targets')
    .addColumn('engagement_id', 'integer', (c) => c.notNull().references('engagements.id').onDelete('cascade'))
    .addColumn('target_type', 'text', (c) => c.notNull().check(sql`target_type in ('contact', 'company', 'ticket')`))
    .addColumn('target_id', 'integer', (c) => c.notNull())
    .addColumn('occurred_at', time, (c) => c.notNull())
    .addPrimaryKeyConstraint('engagement_targets_pk', ['target_type', 'target_id', 'engagement_id'])
    .execute();
  await db.schema
    .createIndex('engagement_targets_timeline')
    .on('engagement_targets')
    .columns(['target_type', 'target_id', 'occurred_at desc', 'engagement_id desc'])
    .execute();
  await db.schema.createIndex('engagement_targets_engagement').on('engagement_targets').column('engagement_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const name of [
    'engagement_targets', 'engagements', 'attachments', 'messages', 'threads', 'channels', 'inboxes',
    'ticket_companies', 'ticket_contacts', 'tickets', 'ticket_properties', 'stages', 'pipelines',
    'list_members', 'contact_lists', 'contact_companies', 'contacts', 'companies', 'api_tokens',
    'staff_sessions', 'staff_users',
  ]) {
    await db.schema.dropTable(name).execute();
  }
}
