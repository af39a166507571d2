import type { Tx } from '../../db/database.js';
import type { Deps } from '../../deps.js';
import { AppError, errors } from '../../errors.js';
import type { ContactsService } from '../contacts/contacts.service.js';
import { readVerdict } from '../mail/sender-verdict.js';
import type { TicketsService } from '../tickets/tickets.service.js';
import * as repo from './conversations.repository.js';

const notHeld = () => errors.conflict('MESSAGE_NOT_HELD', 'This message is not waiting to be accepted.');

/**
 * Mail held because its sender could not be verified (C12) waits for a staff member to accept
 * it. Accepted, it shows on the portal, and so does the ticket it opened; a mail from an address
 * no contact had is filed under a contact for that address, made only now that someone vouched
 * for it (so a forged mail never made a contact, nor the invitation a new contact may get).
 */
export class HeldMessagesService {
  constructor(
    private readonly deps: Deps,
    private readonly contacts: ContactsService,
    private readonly tickets: TicketsService,
  ) {}

  /** Any staff member who may reply in the thread may accept its held message; accepting it again changes nothing. */
  async accept(threadId: number, messageId: number, staffUserId: number): Promise<repo.MessageRow> {
    const run = () => this.deps.db.transaction().execute((tx) => this.acceptIn(tx, threadId, messageId, staffUserId));
    try {
      return await run();
    } catch (error) {
      // The sender's contact was made at the same moment (by their next mail): again, finding it.
      if (error instanceof AppError && error.code === 'EMAIL_TAKEN') return run();
      throw error;
    }
  }

  private async acceptIn(tx: Tx, threadId: number, messageId: number, staffUserId: number): Promise<repo.MessageRow> {
    const thread = await repo.findThreadById(tx, threadId);
    const message = thread === undefined ? undefined : await repo.findMessageInThread(tx, threadId, messageId);
    if (thread === undefined || message === undefined) throw errors.notFound('message');
    const accepted = await repo.acceptHeldMessage(tx, message.id, staffUserId, this.deps.clock.now(), thread.ticket_id);
    if (accepted === undefined) {
      // Not held: accepted already (perhaps a moment ago, by someone else), or never held.
      const current = await repo.findMessageInThread(tx, threadId, messageId);
      if (current?.accepted_at === null || current === undefined) throw notHeld();
      return current;
    }
    const contactId = accepted.contact_id === null ? await this.contactFor(tx, accepted) : null;
    if (thread.ticket_id !== null) await this.tickets.releaseHeldIn(tx, thread.ticket_id, contactId);
    if (contactId === null) return accepted;
    if (thread.contact_id === null) await repo.updateThread(tx, thread.id, { contact_id: contactId, updated_at: this.deps.clock.now() });
    return repo.setMessageContact(tx, accepted.id, contactId);
  }

  /** The contact for the address a held mail came from: the one that has it by now, or a new one. */
  private async contactFor(tx: Tx, message: repo.MessageRow): Promise<number | null> {
    const address = readVerdict(message.authentication)?.address;
    if (address === undefined) return null;
    return (await this.contacts.findByEmail(address, tx))?.id ?? (await this.contacts.createIn(tx, { email: address })).id;
  }
}
