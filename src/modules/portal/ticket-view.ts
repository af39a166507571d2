import type { Conn } from '../../db/database.js';
import type { Viewer } from '../access/access.service.js';
import type { AccessService } from '../access/access.service.js';
import { customerVisibleMessage } from '../access/customer-visible.js';
import { PreparedQuery } from '../../db/prepared.js';

export interface TicketView {
  id: number;
  subject: string;
  closed: boolean;
  stage: string;
  /** The stage's name in other languages (JSON, admin-text.ts), or null. */
  stageTranslations: string | null;
  createdAt: number;
  lastActivityAt: number;
  messages: {
    id: number;
    fromCustomer: boolean;
    /** The author's name, or null where the page says "Customer" or "Support team" in its language. */
    author: string | null;
    bodyText: string;
    createdAt: number;
    attachments: { id: number; filename: string; size: number }[];
  }[];
}

/** A thread's customer-visible messages, each with its attachments (one row per attachment, or one without). */
const threadMessages = new PreparedQuery((db: Conn, a: { threadId: number }) =>
  db.selectFrom('messages as m')
    .leftJoin('contacts as c', 'c.id', 'm.contact_id')
    .leftJoin('staff_users as u', 'u.id', 'm.staff_user_id')
    .leftJoin('attachments as f', 'f.message_id', 'm.id')
    .select(['m.id', 'm.author_type', 'm.body_text', 'm.created_at', 'c.first_name', 'c.last_name', 'c.email', 'u.name as staff_name',
      'f.id as file_id', 'f.filename', 'f.size'])
    .where('m.thread_id', '=', a.threadId).where(customerVisibleMessage('m'))
    .orderBy('m.id').orderBy('f.id'));

/**
 * What a member sees of a ticket (P34, P16, P17): only after the access rule, only the newest
 * conversation thread, only customer-visible messages (never an internal comment, never a held
 * one: C12). Two statements: the ticket with the rule and its newest thread, then that thread.
 */
export async function loadTicketView(db: Conn, access: AccessService, viewer: Viewer, ticketId: number): Promise<TicketView | undefined> {
  const ticket = await access.findVisibleTicket(viewer, ticketId, db);
  if (ticket === undefined) return undefined;
  const rows = ticket.thread_id === null ? [] : await threadMessages.execute(db, { threadId: ticket.thread_id });
  const messages: TicketView['messages'] = [];
  for (const m of rows) {
    let message = messages.at(-1);
    if (message?.id !== m.id) {
      const customerName = [m.first_name, m.last_name].filter((p) => p !== null && p !== '').join(' ');
      message = {
        id: m.id,
        fromCustomer: m.author_type === 'customer',
        author: m.author_type === 'customer' ? (customerName === '' ? m.email : customerName) : m.staff_name,
        bodyText: m.body_text,
        createdAt: m.created_at,
        attachments: [],
      };
      messages.push(message);
    }
    if (m.file_id !== null && m.filename !== null && m.size !== null) message.attachments.push({ id: m.file_id, filename: m.filename, size: m.size });
  }
  return {
    id: ticket.id,
    subject: ticket.subject,
    closed: ticket.is_closed === 1,
    stage: ticket.stage,
    stageTranslations: ticket.stage_translations,
    createdAt: ticket.created_at,
    lastActivityAt: ticket.last_activity_at,
    messages,
  };
}
