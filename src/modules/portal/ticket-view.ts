import type { Conn } from '../../db/database.js';
import type { Viewer } from '../access/access.service.js';
import type { AccessService } from '../access/access.service.js';
import { customerVisibleMessage } from '../access/customer-visible.js';

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

/**
 * What a member sees of a ticket (P34, P16, P17): only after the access rule, only the newest
 * conversation thread, only customer-visible messages (never an internal comment, never a held
 * one: C12).
 */
export async function loadTicketView(db: Conn, access: AccessService, viewer: Viewer, ticketId: number): Promise<TicketView | undefined> {
  if ((await access.findVisibleTicketId(viewer, ticketId, db)) === undefined) return undefined;
  const ticket = await db.selectFrom('tickets as t').innerJoin('stages as s', 's.id', 't.stage_id')
    .select(['t.id', 't.subject', 't.is_closed', 't.created_at', 't.last_activity_at', 's.name as stage', 's.translations as stage_translations'])
    .where('t.id', '=', ticketId).executeTakeFirst();
  if (ticket === undefined) return undefined;
  const thread = await db.selectFrom('threads').select('id').where('ticket_id', '=', ticketId)
    .orderBy('created_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
  const messages = thread === undefined ? [] : await db.selectFrom('messages as m')
    .leftJoin('contacts as c', 'c.id', 'm.contact_id')
    .leftJoin('staff_users as u', 'u.id', 'm.staff_user_id')
    .select(['m.id', 'm.author_type', 'm.body_text', 'm.created_at', 'c.first_name', 'c.last_name', 'c.email', 'u.name as staff_name'])
    .where('m.thread_id', '=', thread.id).where(customerVisibleMessage('m'))
    .orderBy('m.id').execute();
  const files = messages.length === 0 ? [] : await db.selectFrom('attachments').select(['id', 'message_id', 'filename', 'size'])
    .where('message_id', 'in', messages.map((m) => m.id)).orderBy('id').execute();
  return {
    id: ticket.id,
    subject: ticket.subject,
    closed: ticket.is_closed === 1,
    stage: ticket.stage,
    stageTranslations: ticket.stage_translations,
    createdAt: ticket.created_at,
    lastActivityAt: ticket.last_activity_at,
    messages: messages.map((m) => {
      const customerName = [m.first_name, m.last_name].filter((p) => p !== null && p !== '').join(' ');
      return {
        id: m.id,
        fromCustomer: m.author_type === 'customer',
        author: m.author_type === 'customer' ? (customerName === '' ? m.email : customerName) : m.staff_name,
        bodyText: m.body_text,
        createdAt: m.created_at,
        attachments: files.filter((f) => f.message_id === m.id).map((f) => ({ id: f.id, filename: f.filename, size: f.size })),
      };
    }),
  };
}
