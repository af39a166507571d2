import type { Deps } from '../../deps.js';
import * as conversationsRepo from '../conversations/conversations.repository.js';
import type { ConversationsService } from '../conversations/conversations.service.js';
import type * as repo from './tickets.repository.js';
import type { TicketInput, TicketsService } from './tickets.service.js';

export interface NewTicketInput extends TicketInput {
  /** Where the conversation the description starts goes; by default see findInboxForNewTicket. */
  inboxId?: number;
}

/**
 * A ticket staff open through the API (a phone call, say). Given a description, the ticket's
 * conversation starts with it: a thread in an inbox whose first message is the description, in
 * the customer's name (it is their request, as staff took it down), so the portal shows it, the
 * inbox shows the thread waiting for an answer, and no mail goes out. One transaction.
 */
export class NewTicketService {
  constructor(
    private readonly deps: Deps,
    private readonly tickets: TicketsService,
    private readonly conversations: ConversationsService,
  ) {}

  open(input: NewTicketInput, actorId: number | null): Promise<repo.TicketRow> {
    return this.deps.db.transaction().execute(async (tx) => {
      const { inboxId, ...ticketInput } = input;
      const ticket = await this.tickets.create(ticketInput, actorId, tx);
      const description = (input.description ?? '').trim();
      if (description === '') return ticket;
      const inbox = inboxId ?? (await conversationsRepo.findInboxForNewTicket(tx, ticket.pipeline_id));
      if (inbox === undefined) return ticket; // a help desk without inboxes: the description stays on the ticket
      const contactId = input.contactIds?.[0] ?? null;
      await this.conversations.createThreadIn(tx, {
        inboxId: inbox, ticketId: ticket.id, contactId, subject: ticket.subject, assigneeId: ticket.owner_id,
        message: { bodyText: description },
      }, { type: 'customer', contactId });
      return this.tickets.get(ticket.id, tx);
    });
  }
}
