import type { Conn } from '../../db/database.js';
import { PreparedQuery } from '../../db/prepared.js';
import type { NewRow, Row, RowUpdate } from '../../db/schema.js';
import { afterCursor, orderFor, type Cursor, type SortSpec } from '../../http/pagination.js';

export type StaffRow = Row<'staff_users'>;
export type SessionRow = Row<'staff_sessions'>;
export type TokenRow = Row<'api_tokens'>;

export function findStaffById(db: Conn, id: number): Promise<StaffRow | undefined> {
  return db.selectFrom('staff_users').selectAll().where('id', '=', id).executeTakeFirst();
}

export function findStaffByEmailKey(db: Conn, emailKey: string): Promise<StaffRow | undefined> {
  return db.selectFrom('staff_users').selectAll().where('email_key', '=', emailKey).executeTakeFirst();
}

export function insertStaff(db: Conn, row: NewRow<'staff_users'>): Promise<StaffRow> {
  return db.insertInto('staff_users').values(row).returningAll().executeTakeFirstOrThrow();
}

export function updateStaff(db: Conn, id: number, patch: RowUpdate<'staff_users'>): Promise<StaffRow | undefined> {
  return db.updateTable('staff_users').set(patch).where('id', '=', id).returningAll().executeTakeFirst();
}

export async function deleteStaff(db: Conn, id: number): Promise<boolean> {
  const result = await db.deleteFrom('staff_users').where('id', '=', id).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

export function countActiveAdmins(db: Conn): Promise<number> {
  return db
    .selectFrom('staff_users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('role', '=', 'admin')
    .where('disabled_at', 'is', null)
    .executeTakeFirstOrThrow()
    .then((r) => r.n);
}

export function listStaff(db: Conn, sort: SortSpec, cursor: Cursor | undefined, limit: number): Promise<StaffRow[]> {
  let q = db.selectFrom('staff_users').selectAll();
  if (cursor !== undefined) q = q.where(afterCursor(sort, cursor));
  for (const o of orderFor(sort)) q = q.orderBy(o);
  return q.limit(limit + 1).execute();
}

// Sessions

export function insertSession(db: Conn, row: SessionRow): Promise<void> {
  return db.insertInto('staff_sessions').values(row).execute().then(() => undefined);
}

export async function touchSession(db: Conn, idHash: string, at: number): Promise<void> {
  await db.updateTable('staff_sessions').set({ last_seen_at: at }).where('id_hash', '=', idHash).execute();
}

export async function deleteSession(db: Conn, idHash: string): Promise<void> {
  await db.deleteFrom('staff_sessions').where('id_hash', '=', idHash).execute();
}

/** Revokes every API token of a user that still works (a disabled user). */
export async function revokeTokensOf(db: Conn, staffUserId: number, at: number): Promise<void> {
  await db.updateTable('api_tokens').set({ revoked_at: at }).where('staff_user_id', '=', staffUserId).where('revoked_at', 'is', null).execute();
}

export async function deleteSessionsOf(db: Conn, staffUserId: number): Promise<void> {
  await db.deleteFrom('staff_sessions').where('staff_user_id', '=', staffUserId).execute();
}

export async function deleteExpiredSessions(db: Conn, now: number, idleCutoff: number): Promise<number> {
  const r = await db
    .deleteFrom('staff_sessions')
    .where((eb) => eb.or([eb('expires_at', '<=', now), eb('last_seen_at', '<=', idleCutoff)]))
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}

// API tokens

export function insertToken(db: Conn, row: NewRow<'api_tokens'>): Promise<TokenRow> {
  return db.insertInto('api_tokens').values(row).returningAll().executeTakeFirstOrThrow();
}

export function findTokenById(db: Conn, id: number): Promise<TokenRow | undefined> {
  return db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
}

export function listTokens(db: Conn, staffUserId: number | undefined, sort: SortSpec, cursor: Cursor | undefined, limit: number): Promise<TokenRow[]> {
  let q = db.selectFrom('api_tokens').selectAll();
  if (staffUserId !== undefined) q = q.where('staff_user_id', '=', staffUserId);
  if (cursor !== undefined) q = q.where(afterCursor(sort, cursor));
  for (const o of orderFor(sort)) q = q.orderBy(o);
  return q.limit(limit + 1).execute();
}

export async function markTokenUsed(db: Conn, id: number, at: number): Promise<void> {
  await db.updateTable('api_tokens').set({ last_used_at: at }).where('id', '=', id).execute();
}

export async function revokeToken(db: Conn, id: number, at: number): Promise<void> {
  await db.updateTable('api_tokens').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null).execute();
}

const USER_COLUMNS = [
  'u.id', 'u.email', 'u.email_key', 'u.name', 'u.role', 'u.permissions', 'u.password_hash', 'u.failed_sign_ins',
  'u.locked_until', 'u.disabled_at', 'u.created_at', 'u.updated_at',
] as const;

const sessionWithUser = new PreparedQuery((db: Conn, a: { idHash: string }) =>
  db.selectFrom('staff_sessions as s').innerJoin('staff_users as u', 'u.id', 's.staff_user_id')
    .select(USER_COLUMNS)
    .select(['s.id_hash', 's.staff_user_id', 's.csrf_token', 's.created_at as s_created_at', 's.last_seen_at', 's.expires_at', 's.ip', 's.user_agent'])
    .where('s.id_hash', '=', a.idHash));

/** A session and its user in one round trip: this runs on every cookie-authenticated request. */
export async function findSessionWithUser(db: Conn, idHash: string): Promise<{ session: SessionRow; user: StaffRow } | undefined> {
  const row = await sessionWithUser.executeTakeFirst(db, { idHash });
  if (row === undefined) return undefined;
  const { id_hash, staff_user_id, csrf_token, s_created_at, last_seen_at, expires_at, ip, user_agent, ...user } = row;
  return { session: { id_hash, staff_user_id, csrf_token, created_at: s_created_at, last_seen_at, expires_at, ip, user_agent }, user };
}

const tokenWithUser = new PreparedQuery((db: Conn, a: { hash: string }) =>
  db.selectFrom('api_tokens as t').innerJoin('staff_users as u', 'u.id', 't.staff_user_id')
    .select(USER_COLUMNS)
    .select(['t.id as t_id', 't.revoked_at', 't.expires_at', 't.last_used_at'])
    .where('t.token_hash', '=', a.hash));

/** A token and its user in one round trip: this runs on every API-token request. */
export async function findTokenWithUser(db: Conn, hash: string): Promise<{ token: Pick<TokenRow, 'id' | 'revoked_at' | 'expires_at' | 'last_used_at'>; user: StaffRow } | undefined> {
  const row = await tokenWithUser.executeTakeFirst(db, { hash });
  if (row === undefined) return undefined;
  const { t_id, revoked_at, expires_at, last_used_at, ...user } = row;
  return { token: { id: t_id, revoked_at, expires_at, last_used_at }, user };
}
