import { Migrator, PostgresAdapter, sql, type Migration, type MigrationProvider, type MigrationResultSet } from 'kysely';
import type { Db } from './database.js';
import * as core from './migrations/2026-11-25T00-00-core.js';
import * as portals from './migrations/2026-11-25T01-00-portals.js';
import * as memberSessions from './migrations/2026-11-25T02-00-member-sessions.js';
import * as ticketSearch from './migrations/2026-11-25T03-00-ticket-search.js';
import * as portalLanguages from './migrations/2026-11-26T00-00-portal-languages.js';
import * as outbox from './migrations/2026-11-26T01-00-outbox.js';
import * as oneTimeTokens from './migrations/2026-11-26T02-00-one-time-tokens.js';
import * as registration from './migrations/2026-11-26T03-00-registration.js';
import * as portalAccessLists from './migrations/2026-11-26T04-00-portal-access-lists.js';
import * as portalTemplates from './migrations/2026-11-26T05-00-portal-templates.js';
import * as sso from './migrations/2026-11-26T06-00-sso.js';
import * as inboundMail from './migrations/2026-11-26T07-00-inbound-mail.js';
import * as forms from './migrations/2026-11-26T08-00-forms.js';
import * as portalPreviews from './migrations/2026-11-26T10-00-portal-previews.js';
import * as knowledgeBase from './migrations/2026-11-26T09-00-knowledge-base.js';
import * as signInLog from './migrations/2026-12-07T10-00-sign-in-log.js';
import * as mailAuthentication from './migrations/2026-12-07T11-00-mail-authentication.js';
import * as ssoUsedIds from './migrations/2026-12-07T12-00-sso-used-ids.js';
import * as ssoOneSubjectPerProvider from './migrations/2026-12-07T13-00-sso-one-subject-per-provider.js';
import * as inboundReusedMessageIds from './migrations/2026-12-07T14-00-inbound-reused-message-ids.js';
import * as outboxReplyTo from './migrations/2026-12-07T15-00-outbox-reply-to.js';
import * as ticketListIndexes from './migrations/2026-12-07T16-00-ticket-list-indexes.js';
import * as ticketViews from './migrations/2026-12-07T16-10-ticket-views.js';
import * as staffPasswordResets from './migrations/2026-12-07T18-00-staff-password-resets.js';
import * as portalHome from './migrations/2026-12-08T08-00-portal-home.js';
import * as adminTextTranslations from './migrations/2026-12-08T09-00-admin-text-translations.js';
import { indexMissingTickets } from '../modules/tickets/search-index.js';

/** Every migration, in order. Names are timestamps; a merged migration never changes. */
const migrations: Record<string, Migration> = {
  '2026-11-25T00-00-core': core,
  '2026-11-25T01-00-portals': portals,
  '2026-11-25T02-00-member-sessions': memberSessions,
  '2026-11-25T03-00-ticket-search': ticketSearch,
  '2026-11-26T00-00-portal-languages': portalLanguages,
  '2026-11-26T01-00-outbox': outbox,
  '2026-11-26T02-00-one-time-tokens': oneTimeTokens,
  '2026-11-26T03-00-registration': registration,
  '2026-11-26T04-00-portal-access-lists': portalAccessLists,
  '2026-11-26T05-00-portal-templates': portalTemplates,
  '2026-11-26T06-00-sso': sso,
  '2026-11-26T07-00-inbound-mail': inboundMail,
  '2026-11-26T08-00-forms': forms,
  '2026-11-26T09-00-knowledge-base': knowledgeBase,
  '2026-11-26T10-00-portal-previews': portalPreviews,
  '2026-12-07T10-00-sign-in-log': signInLog,
  '2026-12-07T11-00-mail-authentication': mailAuthentication,
  '2026-12-07T12-00-sso-used-ids': ssoUsedIds,
  '2026-12-07T13-00-sso-one-subject-per-provider': ssoOneSubjectPerProvider,
  '2026-12-07T14-00-inbound-reused-message-ids': inboundReusedMessageIds,
  '2026-12-07T15-00-outbox-reply-to': outboxReplyTo,
  '2026-12-07T16-00-ticket-list-indexes': ticketListIndexes,
  '2026-12-07T16-10-ticket-views': ticketViews,
  '2026-12-07T18-00-staff-password-resets': staffPasswordResets,
  '2026-12-08T08-00-portal-home': portalHome,
  '2026-12-08T09-00-admin-text-translations': adminTextTranslations,
};

/**
 * Work that follows a migration and needs application code, which migrations never import: it
 * runs once, right after its migration was applied.
 */
const after: Record<string, (db: Db) => Promise<unknown>> = {
  // Documents for the tickets that existed before the search index did.
  '2026-11-25T03-00-ticket-search': indexMissingTickets,
};

const provider: MigrationProvider = {
  getMigrations: () => Promise.resolve(migrations),
};

/**
 * Kysely looks for its bookkeeping tables in every schema unless told which one, so on PostgreSQL
 * another schema's kysely_migration would pass for ours. Pin it to the connection's own schema.
 */
async function migrator(db: Db): Promise<Migrator> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return new Migrator({ db, provider });
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
  const schema = rows[0]?.schema ?? null;
  return new Migrator({ db, provider, ...(schema === null ? {} : { migrationTableSchema: schema }) });
}

export async function migrateToLatest(db: Db): Promise<string[]> {
  const result: MigrationResultSet = await (await migrator(db)).migrateToLatest();
  if (result.error !== undefined) {
    const failed = result.results?.find((r) => r.status === 'Error');
    throw new Error(`migration ${failed?.migrationName ?? '(unknown)'} failed: ${result.error instanceof Error ? result.error.message : 'unknown error'}`, {
      cause: result.error,
    });
  }
  const applied = (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  for (const name of applied) await after[name]?.(db);
  return applied;
}

/** Names of migrations the code knows but the database has not applied. */
export async function pendingMigrations(db: Db): Promise<string[]> {
  const all = await (await migrator(db)).getMigrations();
  return all.filter((m) => m.executedAt === undefined).map((m) => m.name);
}
