import type { Deps } from '../../deps.js';
import { AppError, errors } from '../../errors.js';
import type { AccessService, Viewer } from '../access/access.service.js';
import * as conversationsRepo from '../conversations/conversations.repository.js';
import type { ConversationsService, StoredUpload } from '../conversations/conversations.service.js';
import type { PortalRow } from './portals.service.js';

/**
 * A member's reply on a ticket (P35, P20, P27), in one transaction: the access rule, the
 * ticket still open, the newest thread (or a new one in the portal's default inbox), the message,
 * its files and its timeline entry. Files are already durable; if this fails, nothing points at them.
 */
export async function replyToTicket(
  deps: Deps,
  access: AccessService,
  conversations: ConversationsService,
  portal: PortalRow,
  viewer: Viewer,
  ticketId: number,
  text: string,
  files: StoredUpload[],
): Promise<number> {
  return deps.db.transaction().execute(async (tx) => {
    if ((await access.findVisibleTicketId(viewer, ticketId, tx)) === undefined) throw errors.notFound('ticket');
    const ticket = await tx.selectFrom('tickets').select(['id', 'subject', 'is_closed']).where('id', '=', ticketId).executeTakeFirstOrThrow();
    if (ticket.is_closed === 1) throw new AppError(409, 'TICKET_CLOSED', 'This ticket is closed; it can no longer be answered.');
    let thread = await tx.selectFrom('threads').select('id').where('ticket_id', '=', ticketId)
      .orderBy('created_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
    if (thread === undefined) {
      // A ticket without a conversation (opened on the phone, say): start one in the default inbox.
      if (portal.default_inbox_id === null) throw new AppError(409, 'NO_DEFAULT_INBOX', 'This ticket cannot be answered here yet.');
      const channel = await tx.selectFrom('channels').select('id').where('inbox_id', '=', portal.default_inbox_id).where('type', '=', 'portal').executeTakeFirst();
      const now = deps.clock.now();
      thread = await conversationsRepo.insertThread(tx, {
        inbox_id: portal.default_inbox_id, channel_id: channel?.id ?? null, ticket_id: ticketId, contact_id: viewer.contactId,
        subject: ticket.subject, status: 'open', assignee_id: null, created_at: now, updated_at: now, last_message_at: now,
      });
    }
    const message = await conversations.addMessageIn(tx, {
      threadId: thread.id, kind: 'message', author: { type: 'customer', contactId: viewer.contactId }, bodyText: text, files,
    });
    await tx.updateTable('threads').set({ status: 'open' }).where('id', '=', thread.id).execute();
    return message.id;
  });
}
