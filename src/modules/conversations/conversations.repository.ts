import { sql, type SqlBool } from 'kysely';
import type { Conn } from '../../db/database.js';
import type { NewRow, Row, RowUpdate } from '../../db/schema.js';
import { afterCursor, orderFor, type Cursor, type SortSpec } from '../../http/pagination.js';
import { escapeLike } from '../filters/filters.js';
import { reindexTicketSearch } from '../tickets/search-index.js';

export type InboxRow = Row<'inboxes'>;
export type ChannelRow = Row<'channels'>;
export type ThreadRow = Row<'threads'>;
export type MessageRow = Row<'messages'>;
export type AttachmentRow = Row<'attachments'>;

export const listInboxes = (db: Conn) => db.selectFrom('inboxes').selectAll().orderBy('name').orderBy('id').execute();
export const findInboxById = (db: Conn, id: number) => db.selectFrom('inboxes').selectAll().where('id', '=', id).executeTakeFirst();
/**
 * The inbox a staff-opened ticket's conversation goes to when none is named: one that files
 * tickets into its pipeline, else a customer portal's default inbox (where portal replies to
 * tickets without a conversation go), else the first inbox. Undefined when there is none.
 */
export async function findInboxForNewTicket(db: Conn, pipelineId: number): Promise<number | undefined> {
  const filing = await db.selectFrom('inboxes').select('id').where('pipeline_id', '=', pipelineId).orderBy('creates_tickets', 'desc').orderBy('id').limit(1).executeTakeFirst();
  if (filing !== undefined) return filing.id;
  const portal = await db.selectFrom('portals').select('default_inbox_id').where('default_inbox_id', 'is not', null).orderBy('id').limit(1).executeTakeFirst();
  if (portal?.default_inbox_id != null) return portal.default_inbox_id;
  return (await db.selectFrom('inboxes').select('id').orderBy('id').limit(1).executeTakeFirst())?.id;
}
export const insertInbox = (db: Conn, row: NewRow<'inboxes'>) => db.insertInto('inboxes').values(row).returningAll().executeTakeFirstOrThrow();
export const updateInbox = (db: Conn, id: number, patch: RowUpdate<'inboxes'>) => db.updateTable('inboxes').set(patch).where('id', '=', id).returningAll().executeTakeFirst();
export async function deleteInbox(db: Conn, id: number): Promise<void> {
  await db.deleteFrom('inboxes').where('id', '=', id).execute();
}
export async function inboxHasThreads(db: Conn, id: number): Promise<boolean> {
  return (await db.selectFrom('threads').select('id').where('inbox_id', '=', id).limit(1).executeTakeFirst()) !== undefined;
}

export function channelsOf(db: Conn, inboxIds: number[]): Promise<ChannelRow[]> {
  if (inboxIds.length === 0) return Promise.resolve([]);
  return db.selectFrom('channels').selectAll().where('inbox_id', 'in', inboxIds).orderBy('id').execute();
}
export const findChannelById = (db: Conn, id: number) => db.selectFrom('channels').selectAll().where('id', '=', id).executeTakeFirst();
export const insertChannel = (db: Conn, row: NewRow<'channels'>) => db.insertInto('channels').values(row).returningAll().executeTakeFirstOrThrow();
export const updateChannel = (db: Conn, id: number, patch: RowUpdate<'channels'>) => db.updateTable('channels').set(patch).where('id', '=', id).returningAll().executeTakeFirst();
export async function deleteChannel(db: Conn, id: number): Promise<void> {
  await db.deleteFrom('channels').where('id', '=', id).execute();
}

export interface ThreadFilter {
  inboxId?: number;
  status?: 'open' | 'closed';
  assigneeId?: number | null;
  /** With assigneeId: threads assigned to nobody as well. */
  orUnassigned?: boolean;
  ticketId?: number;
  contactId?: number;
  /** Subject contains, any case. */
  q?: string;
}

export function listThreads(db: Conn, filter: ThreadFilter, sort: SortSpec, cursor: Cursor | undefined, limit: number): Promise<ThreadRow[]> {
  let q = db.selectFrom('threads').selectAll();
  if (filter.inboxId !== undefined) q = q.where('inbox_id', '=', filter.inboxId);
  if (filter.status !== undefined) q = q.where('status', '=', filter.status);
  const assigneeId = filter.assigneeId;
  if (assigneeId !== undefined) {
    q = assigneeId === null
      ? q.where('assignee_id', 'is', null)
      : filter.orUnassigned === true
        ? q.where((eb) => eb.or([eb('assignee_id', '=', assigneeId), eb('assignee_id', 'is', null)]))
        : q.where('assignee_id', '=', assigneeId);
  }
  if (filter.ticketId !== undefined) q = q.where('ticket_id', '=', filter.ticketId);
  if (filter.contactId !== undefined) q = q.where('contact_id', '=', filter.contactId);
  if (filter.q !== undefined) q = q.where(sql<SqlBool>`lower(subject) like ${'%' + escapeLike(filter.q.toLowerCase()) + '%'} escape '\\'`);
  if (cursor !== undefined) q = q.where(afterCursor(sort, cursor));
  for (const o of orderFor(sort)) q = q.orderBy(o);
  return q.limit(limit + 1).execute();
}

export const findThreadById = (db: Conn, id: number) => db.selectFrom('threads').selectAll().where('id', '=', id).executeTakeFirst();
// Every write to threads and messages goes through these functions: they keep the tickets'
// search documents (tickets/search-index.ts) in step.

export async function insertThread(db: Conn, row: NewRow<'threads'>): Promise<ThreadRow> {
  const thread = await db.insertInto('threads').values(row).returningAll().executeTakeFirstOrThrow();
  if (thread.ticket_id !== null) await reindexTicketSearch(db, thread.ticket_id);
  return thread;
}

export async function updateThread(db: Conn, id: number, patch: RowUpdate<'threads'>): Promise<ThreadRow | undefined> {
  const before = patch.ticket_id === undefined && patch.created_at === undefined ? undefined : await findThreadById(db, id);
  const thread = await db.updateTable('threads').set(patch).where('id', '=', id).returningAll().executeTakeFirst();
  if (thread !== undefined && before !== undefined) {
    for (const ticketId of new Set([before.ticket_id, thread.ticket_id])) if (ticketId !== null) await reindexTicketSearch(db, ticketId);
  }
  return thread;
}

export async function deleteThread(db: Conn, id: number): Promise<boolean> {
  const r = await db.deleteFrom('threads').where('id', '=', id).returning('ticket_id').executeTakeFirst();
  if (r === undefined) return false;
  if (r.ticket_id !== null) await reindexTicketSearch(db, r.ticket_id);
  return true;
}

export function listMessages(db: Conn, threadId: number, sort: SortSpec, cursor: Cursor | undefined, limit: number): Promise<MessageRow[]> {
  let q = db.selectFrom('messages').selectAll().where('thread_id', '=', threadId);
  if (cursor !== undefined) q = q.where(afterCursor(sort, cursor));
  for (const o of orderFor(sort)) q = q.orderBy(o);
  return q.limit(limit + 1).execute();
}
/** `ticketId`: the thread's ticket, when the caller has the thread at hand (saves reading it again). */
export async function insertMessage(db: Conn, row: NewRow<'messages'>, ticketId?: number | null): Promise<MessageRow> {
  const message = await db.insertInto('messages').values(row).returningAll().executeTakeFirstOrThrow();
  if (message.kind === 'message') {
    const ticket = ticketId !== undefined ? ticketId
      : (await db.selectFrom('threads').select('ticket_id').where('id', '=', message.thread_id).executeTakeFirst())?.ticket_id;
    if (ticket != null) await reindexTicketSearch(db, ticket);
  }
  return message;
}

export const findMessageInThread = (db: Conn, threadId: number, id: number) =>
  db.selectFrom('messages').selectAll().where('id', '=', id).where('thread_id', '=', threadId).executeTakeFirst();

/** Whether a thread holds a message still waiting for staff to accept it. */
export async function threadHasHeldMessage(db: Conn, threadId: number): Promise<boolean> {
  return (await db.selectFrom('messages').select('id').where('thread_id', '=', threadId).where('held', '=', 1).limit(1).executeTakeFirst()) !== undefined;
}

/** Which of these threads hold a message waiting for staff to accept it. */
export async function threadsWithHeldMessages(db: Conn, threadIds: number[]): Promise<Set<number>> {
  if (threadIds.length === 0) return new Set();
  const rows = await db.selectFrom('messages').select('thread_id').distinct().where('thread_id', 'in', threadIds).where('held', '=', 1).execute();
  return new Set(rows.map((r) => r.thread_id));
}

/**
 * Accepts a held message: it becomes customer-visible, so its ticket's search document is
 * rewritten. Only a message still held is changed (of two staff accepting at once, one does);
 * undefined when it was not.
 */
export async function acceptHeldMessage(db: Conn, id: number, staffUserId: number, at: number, ticketId: number | null): Promise<MessageRow | undefined> {
  const message = await db.updateTable('messages').set({ held: 0, accepted_at: at, accepted_by_staff_id: staffUserId })
    .where('id', '=', id).where('held', '=', 1).returningAll().executeTakeFirst();
  if (message !== undefined && ticketId !== null) await reindexTicketSearch(db, ticketId);
  return message;
}

/** Files a message under a contact (one that came by mail from an address no contact had). */
export const setMessageContact = (db: Conn, id: number, contactId: number) =>
  db.updateTable('messages').set({ contact_id: contactId }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();

export async function attachmentsOf(db: Conn, messageIds: number[]): Promise<Map<number, AttachmentRow[]>> {
  const map = new Map<number, AttachmentRow[]>(messageIds.map((id) => [id, []]));
  if (messageIds.length === 0) return map;
  const rows = await db.selectFrom('attachments').selectAll().where('message_id', 'in', messageIds).orderBy('id').execute();
  for (const r of rows) if (r.message_id !== null) map.get(r.message_id)?.push(r);
  return map;
}
export const findAttachmentById = (db: Conn, id: number) => db.selectFrom('attachments').selectAll().where('id', '=', id).executeTakeFirst();
export const insertAttachment = (db: Conn, row: NewRow<'attachments'>) => db.insertInto('attachments').values(row).returningAll().executeTakeFirstOrThrow();

/** Binds uploads to a message. Only the uploader's own, not-yet-attached uploads are taken. */
export async function claimAttachments(db: Conn, ids: number[], messageId: number, staffUserId: number): Promise<number> {
  if (ids.length === 0) return 0;
  const r = await db.updateTable('attachments').set({ message_id: messageId })
    .where('id', 'in', ids).where('message_id', 'is', null).where('uploaded_by_staff_id', '=', staffUserId)
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}
