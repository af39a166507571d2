import { sql, type Expression, type SqlBool } from 'kysely';
import type { Conn } from '../../db/database.js';

/**
 * P10: a portal that names contact lists is open only to contacts on at least one of them; a
 * portal that names none is open to all its members. As SQL over a portal id and a contact id.
 */
export function mayUsePortalSql(portalId: Expression<number>, contactId: Expression<number>): Expression<SqlBool> {
  return sql<SqlBool>`(not exists (select 1 from portal_access_lists pal where pal.portal_id = ${portalId})
    or exists (select 1 from portal_access_lists pal inner join list_members lm on lm.list_id = pal.list_id
               where pal.portal_id = ${portalId} and lm.contact_id = ${contactId}))`;
}

export async function mayUsePortal(db: Conn, portalId: number, memberId: number): Promise<boolean> {
  const row = await db.selectFrom('members as m').select('m.id')
    .where('m.id', '=', memberId)
    .where(mayUsePortalSql(sql<number>`${portalId}`, sql.ref<number>('m.contact_id')))
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Whether visitors may register on a portal: when the admin allows it and the portal names no
 * contact lists. A portal that lists who may sign in invites them; a stranger who registered
 * would only be denied, so registration is not offered at all while lists are set.
 */
export async function registrationOpen(db: Conn, portal: { id: number; self_registration: number }): Promise<boolean> {
  if (portal.self_registration !== 1) return false;
  const named = await db.selectFrom('portal_access_lists').select('list_id').where('portal_id', '=', portal.id).executeTakeFirst();
  return named === undefined;
}

/**
 * The active members of a portal who may sign in now and would not with these lists: what an
 * admin is asked to confirm before saving them. The count and the first few, by name.
 */
export async function membersLosingAccess(db: Conn, portalId: number, listIds: number[]): Promise<{ count: number; first: { name: string; email: string }[] }> {
  if (listIds.length === 0) return { count: 0, first: [] };
  const losing = db.selectFrom('members as m').innerJoin('contacts as c', 'c.id', 'm.contact_id')
    .where('m.portal_id', '=', portalId).where('m.disabled_at', 'is', null)
    .where(mayUsePortalSql(sql<number>`${portalId}`, sql.ref<number>('m.contact_id')))
    .where((eb) => eb.not(eb.exists(eb.selectFrom('list_members as lm').select('lm.contact_id').whereRef('lm.contact_id', '=', 'm.contact_id').where('lm.list_id', 'in', listIds))));
  const counted = await losing.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirst();
  const rows = await losing.select(['c.email', 'c.first_name', 'c.last_name']).orderBy('m.id').limit(5).execute();
  return {
    count: Number(counted?.n ?? 0),
    first: rows.map((r) => ({ name: [r.first_name, r.last_name].filter((x) => x !== null && x !== '').join(' ') || r.email, email: r.email })),
  };
}

/** Which members a change of lists may have shut out: of one portal, of portals naming one list, or these contacts. */
export interface AccessScope {
  portalId?: number;
  listId?: number;
  contactIds?: number[];
}

/**
 * Ends the sessions of members whom their portal's lists no longer let in, and voids their
 * emailed links that would sign them in (reset, sign-in link, address confirmation, email
 * change), in the transaction of the change: being put back on a list later never revives them.
 * An invitation stays: it is checked against the lists when used, as P10 means it to be.
 */
export async function endLostAccess(db: Conn, now: number, scope: AccessScope): Promise<void> {
  if (scope.contactIds?.length === 0) return;
  let lost = db.selectFrom('members as m').select('m.id')
    .where((eb) => eb.not(mayUsePortalSql(sql.ref<number>('m.portal_id'), sql.ref<number>('m.contact_id'))));
  if (scope.portalId !== undefined) lost = lost.where('m.portal_id', '=', scope.portalId);
  if (scope.listId !== undefined) lost = lost.where('m.portal_id', 'in', db.selectFrom('portal_access_lists').select('portal_id').where('list_id', '=', scope.listId));
  if (scope.contactIds !== undefined) lost = lost.where('m.contact_id', 'in', scope.contactIds);
  await db.deleteFrom('member_sessions').where('member_id', 'in', lost).execute();
  await db.updateTable('one_time_tokens').set({ used_at: now })
    .where('member_id', 'in', lost).where('purpose', 'in', ['reset', 'magic', 'verify', 'email']).where('used_at', 'is', null).execute();
}

/** Ends a member's sessions and voids the emailed links that would sign them in (a disabled member). */
export async function endMemberAccess(db: Conn, now: number, memberId: number): Promise<void> {
  await db.deleteFrom('member_sessions').where('member_id', '=', memberId).execute();
  await db.updateTable('one_time_tokens').set({ used_at: now })
    .where('member_id', '=', memberId).where('used_at', 'is', null).execute();
}
