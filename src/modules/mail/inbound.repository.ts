import type { Conn } from '../../db/database.js';

/** Records the sender checks of a received mail (C12), while it waits to be processed. */
export async function recordAuthentication(db: Conn, id: number, verdict: string): Promise<void> {
  await db.updateTable('inbound_mail').set({ authentication: verdict }).where('id', '=', id).where('status', '=', 'received').execute();
}
