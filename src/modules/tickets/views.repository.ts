import type { Conn } from '../../db/database.js';
import type { NewRow, Row, RowUpdate } from '../../db/schema.js';

export type TicketViewRow = Row<'ticket_views'>;

/** The views a staff member sees: the shared ones (built-in first), then their own, by name. */
export function listViewsFor(db: Conn, staffUserId: number): Promise<TicketViewRow[]> {
  return db.selectFrom('ticket_views').selectAll()
    .where((eb) => eb.or([eb('staff_user_id', 'is', null), eb('staff_user_id', '=', staffUserId)]))
    .orderBy('built_in', 'desc').orderBy((eb) => eb.case().when('staff_user_id', 'is', null).then(0).else(1).end()).orderBy('name').orderBy('id')
    .execute();
}

export const findViewById = (db: Conn, id: number) => db.selectFrom('ticket_views').selectAll().where('id', '=', id).executeTakeFirst();
export const insertView = (db: Conn, row: NewRow<'ticket_views'>) => db.insertInto('ticket_views').values(row).returningAll().executeTakeFirstOrThrow();
export const updateView = (db: Conn, id: number, patch: RowUpdate<'ticket_views'>) => db.updateTable('ticket_views').set(patch).where('id', '=', id).returningAll().executeTakeFirst();
export async function deleteView(db: Conn, id: number): Promise<void> {
  await db.deleteFrom('ticket_views').where('id', '=', id).execute();
}
