import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { sql } from 'kysely';
import { pino } from 'pino';
import { buildApp, LOG_REDACT } from '../../src/app.js';
import { ManualClock } from '../../src/clock.js';
import { loadConfig, type Config } from '../../src/config.js';
import { openDatabase, type Dialect } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import type { App } from '../../src/http/types.js';
import type { Permission, Role } from '../../src/modules/staff/staff.policy.js';
import { TestDns } from './dns-zone.js';

/** The dialects every database test runs on: SQLite always, PostgreSQL when TEST_DATABASE_URL is set. */
export const dialects: Dialect[] = process.env.TEST_DATABASE_URL ? ['sqlite', 'postgres'] : ['sqlite'];

export interface TestApp {
  app: App;
  clock: ManualClock;
  config: Config;
  dialect: Dialect;
  dataDir: string;
  close(): Promise<void>;
}

let counter = 0;
/** A unique suffix for emails and names, so each test builds its own data. */
export function unique(prefix = 'x'): string {
  counter += 1;
  return `${prefix}${process.pid}-${counter}-${randomBytes(3).toString('hex')}`;
}

/**
 * Builds the whole app on a fresh database: a new SQLite file, or a new PostgreSQL schema that
 * is dropped on close. The clock is manual: tests move time, they never sleep. DNS is the test's
 * own (`dns`, by default one where no name exists): tests never ask the real DNS.
 */
export async function createTestApp(dialect: Dialect, env: Record<string, string> = {}, options: { logs?: string[]; dns?: TestDns } = {}): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'portico-test-'));
  let schema: string | undefined;
  let databaseUrl: string | undefined;
  if (dialect === 'postgres') {
    const base = process.env.TEST_DATABASE_URL;
    if (base === undefined) throw new Error('TEST_DATABASE_URL is not set');
    schema = `t_${process.pid}_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    await admin.end();
    const url = new URL(base);
    url.searchParams.set('options', `-c search_path=${schema}`);
    databaseUrl = url.toString();
  }
  const config = loadConfig({
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    SESSION_SECRET: 'test-secret-test-secret-test-secret-0123',
    // Load shedding reads a busy test machine as overload; it is off in tests.
    MAX_EVENT_LOOP_DELAY_MS: '0',
    ...(databaseUrl === undefined ? {} : { DATABASE_URL: databaseUrl }),
    ...env,
  });
  const database = openDatabase(config.database);
  await migrateToLatest(database.db);
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 9, 0, 0));
  // With `logs`, every log line (JSON, redacted as in production) is kept there for the test to read.
  const logs = options.logs;
  const logger = logs === undefined ? undefined : pino({ level: 'info', redact: { paths: LOG_REDACT, censor: '[redacted]' } }, { write: (line: string) => void logs.push(line) });
  const app = await buildApp({ config, database, clock, dns: (options.dns ?? new TestDns()).resolve, ...(logger === undefined ? {} : { logger }) });
  await app.ready();
  return {
    app,
    clock,
    config,
    dialect,
    dataDir,
    close: async () => {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
      if (schema !== undefined && process.env.TEST_DATABASE_URL !== undefined) {
        const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
        await admin.connect();
        await admin.query(`drop schema ${schema} cascade`);
        await admin.end();
      }
    },
  };
}

export interface TestStaff {
  id: number;
  email: string;
  password: string;
  token: string;
  /** Headers that authenticate as this user with an API token. */
  auth: { authorization: string };
}

/** A staff user with an API token, made through the services (no HTTP round trip). */
export async function createStaff(t: TestApp, options: { role?: Role; permissions?: Permission[] } = {}): Promise<TestStaff> {
  const email = `${unique('staff')}@example.com`;
  const password = 'correct horse battery staple';
  const user = await t.app.services.staff.create({ email, name: 'Test Staff', role: options.role ?? 'agent', permissions: options.permissions ?? [], password });
  const { secret } = await t.app.services.staffAuth.createApiToken(user.id, 'test', null);
  return { id: user.id, email, password, token: secret, auth: { authorization: `Bearer ${secret}` } };
}

/**
 * Every table's row count, to prove a refused request changed nothing. (Not the sign-in log:
 * entering a refusal there is what a refused sign-in is meant to do.)
 */
export async function rowCounts(t: TestApp): Promise<Record<string, number>> {
  const tables = ['staff_users', 'staff_sessions', 'api_tokens', 'companies', 'contacts', 'contact_companies', 'contact_lists', 'list_members', 'pipelines', 'stages', 'ticket_properties', 'tickets', 'ticket_contacts', 'ticket_companies', 'inboxes', 'channels', 'threads', 'messages', 'attachments', 'engagements', 'engagement_targets', 'portals', 'members', 'member_sessions', 'one_time_tokens', 'consents', 'outbox', 'portal_access_lists', 'portal_templates', 'portal_messages', 'sso_providers', 'member_identities', 'sso_flows', 'sso_replays', 'portal_sso_lists', 'portal_previews'] as const;
  // One query, not one per table: the walks call this around every request they send.
  const query = tables.map((table) => `select '${table}' as t, count(*) as n from ${table}`).join(' union all ');
  const rows = (await sql<{ t: string; n: number | string }>`${sql.raw(query)}`.execute(t.app.deps.db)).rows;
  const out: Record<string, number> = {};
  for (const table of tables) out[table] = Number(rows.find((r) => r.t === table)?.n ?? -1);
  return out;
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * A request helper bound to a test app and a default caller (read when called, so it may be
 * set in beforeAll): `call('POST', url, body)` or `call('GET', url, undefined, someoneElse)`.
 */
export function caller(t: () => TestApp, defaultStaff: () => TestStaff) {
  return (method: Method, url: string, payload?: object, as: TestStaff = defaultStaff()) =>
    t().app.inject({ method, url, headers: as.auth, ...(payload === undefined ? {} : { payload }) });
}
