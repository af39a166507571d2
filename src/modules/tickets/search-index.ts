import { sql } from 'kysely';
import type { Conn, Db } from '../../db/database.js';
import { searchDocument } from '../../util/search-text.js';
import { customerVisibleMessage } from '../access/customer-visible.js';

/**
 * Keeps a ticket's search document (its subject and the customer-visible messages of its newest
 * thread) in step with the ticket. The repositories call it in the transaction of every write
 * that changes what the document holds: a ticket created or renamed, a thread started, moved or
 * deleted, a message added or accepted. Internal comments, held messages (C12) and older threads
 * never enter it (P16, P17), so a portal search cannot find what the customer cannot read.
 */
export async function reindexTicketSearch(db: Conn, ticketId: number): Promise<void> {
  const ticket = await db.selectFrom('tickets').select('subject').where('id', '=', ticketId).executeTakeFirst();
  if (ticket === undefined) return; // deleted: its document went with it
  const bodies = await db.selectFrom('messages as m')
    .select('m.body_text')
    .where('m.thread_id', '=', (eb) => eb.selectFrom('threads as n').select('n.id').where('n.ticket_id', '=', ticketId)
      .orderBy('n.created_at', 'desc').orderBy('n.id', 'desc').limit(1))
    .where(customerVisibleMessage('m'))
    .orderBy('m.id')
    .execute();
  const doc = searchDocument([ticket.subject, ...bodies.map((b) => b.body_text)]);
  await db.insertInto('ticket_search').values({ ticket_id: ticketId, doc })
    .onConflict((oc) => oc.column('ticket_id').doUpdateSet({ doc }).where(sql.ref('ticket_search.doc'), '<>', doc))
    .execute();
}

/** Writes the documents of tickets that have none (created before the index existed); returns how many. */
export async function indexMissingTickets(db: Db, batch = 500): Promise<number> {
  let done = 0;
  let after = 0;
  for (;;) {
    const ids = await db.selectFrom('tickets as t').select('t.id')
      .where('t.id', '>', after)
      .where((eb) => eb.not(eb.exists(eb.selectFrom('ticket_search as s').select('s.ticket_id').whereRef('s.ticket_id', '=', 't.id'))))
      .orderBy('t.id').limit(batch).execute();
    if (ids.length === 0) return done;
    await db.transaction().execute(async (tx) => {
      for (const { id } of ids) await reindexTicketSearch(tx, id);
    });
    done += ids.length;
    after = ids[ids.length - 1]?.id ?? after;
  }
}
