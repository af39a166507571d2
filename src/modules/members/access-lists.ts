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
