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
