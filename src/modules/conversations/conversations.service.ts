import { fileTypeFromBuffer } from 'file-type';
import type { Readable } from 'node:stream';
import type { Conn, Tx } from '../../db/database.js';
import { isUniqueViolation } from '../../db/db-errors.js';
import type { RowUpdate } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { errors } from '../../errors.js';
import type { FileStore } from '../../storage/file-store.js';
import { SecretBox } from '../../security/sealed.js';
import { emailKey } from '../../util/email.js';
import * as contactsRepo from '../contacts/contacts.repository.js';
import * as staffRepo from '../staff/staff.repository.js';
import * as ticketsRepo from '../tickets/tickets.repository.js';
import type { TicketsService } from '../tickets/tickets.service.js';
import type { TimelineService } from '../timeline/timeline.service.js';
import * as repo from './conversations.repository.js';
import { htmlToText, sanitizeMessageHtml } from './html.js';
import { failpoint } from '../../util/failpoints.js';
import type { SenderVerdict } from '../mail/sender-verdict.js';

/** A customer without a contact: mail held from an address no contact has yet (C12), filed under one when accepted. */
export type Author = { type: 'staff'; staffUserId: number } | { type: 'customer'; contactId: number | null } | { type: 'system' };

/** A file already durable in the file store, waiting for the row that will point at it. */
export interface StoredUpload {
  sha256: string;
  size: number;
  filename: string;
  contentType: string;
}

export interface NewMessage {
  threadId: number;
  kind: 'message' | 'comment';
  author: Author;
  bodyText?: string;
  bodyHtml?: string;
  /** Earlier uploads by the staff author, claimed for this message. */
  attachmentIds?: number[];
  /** Files stored for this message alone (a customer's reply), recorded with it. */
  files?: StoredUpload[];
  /** A message that came by mail: what the checks found about its sender (C12). */
  sender?: SenderVerdict;
  /** Kept off the portal until a staff member accepts it (its sender could not be verified). */
  held?: boolean;
}

const addressTaken = () => errors.conflict('ADDRESS_TAKEN', 'Another channel already receives mail at this address.');
const heldReply = () => errors.conflict('MESSAGE_HELD', 'This conversation has a message whose sender could not be verified. Accept it before replying, or write to the customer in a new conversation.');

export interface ThreadInput {
  inboxId: number;
  channelId?: number | null;
  ticketId?: number | null;
  contactId?: number | null;
  subject: string;
  assigneeId?: number | null;
  message?: Omit<NewMessage, 'threadId' | 'kind' | 'author'> & { kind?: 'message' | 'comment' };
}

/** An email channel's IMAP mailbox as the API takes it: the password is write-only. */
export interface ImapInput {
  host: string;
  port: number;
  secure: boolean;
  user: string;
  mailbox: string;
  password?: string;
}

/** Inboxes and their channels (C3); an email channel may also poll an IMAP mailbox (its password sealed). */
export class InboxesService {
  private readonly box: SecretBox;

  constructor(private readonly deps: Deps) {
    this.box = new SecretBox(deps.config.secretsKey);
  }

  /** The IMAP password of a channel, opened; null when none is set. */
  imapPassword(channel: repo.ChannelRow): string | null {
    return channel.imap_secret === null ? null : this.box.open(channel.imap_secret, `channel:${channel.id}`);
  }

  /** The columns for a channel's IMAP mailbox: settings as JSON, the password sealed (kept when not given). */
  private imapColumns(channel: { id: number; type: string; imap_secret: string | null }, imap: ImapInput | null): RowUpdate<'channels'> {
    if (imap === null) return { imap_settings: null, imap_secret: null };
    if (channel.type !== 'email') throw errors.unprocessable('IMAP_NOT_ALLOWED', 'Only an email channel reads a mailbox.', [{ path: '/body/imap', message: 'Only an email channel reads a mailbox: leave this out.' }]);
    if (imap.password === undefined && channel.imap_secret === null) throw errors.validation([{ path: '/body/imap/password', message: 'Enter the mailbox password: it is needed the first time.' }]);
    const { password, ...settings } = imap;
    return { imap_settings: JSON.stringify(settings), imap_secret: password === undefined ? channel.imap_secret : this.box.seal(password, `channel:${channel.id}`) };
  }

  async get(id: number, db: Conn = this.deps.db): Promise<{ inbox: repo.InboxRow; channels: repo.ChannelRow[] }> {
    const inbox = await repo.findInboxById(db, id);
    if (inbox === undefined) throw errors.notFound('inbox');
    return { inbox, channels: await repo.channelsOf(db, [id]) };
  }

  async list(): Promise<{ inbox: repo.InboxRow; channels: repo.ChannelRow[] }[]> {
    const inboxes = await repo.listInboxes(this.deps.db);
    const channels = await repo.channelsOf(this.deps.db, inboxes.map((i) => i.id));
    return inboxes.map((inbox) => ({ inbox, channels: channels.filter((c) => c.inbox_id === inbox.id) }));
  }

  async create(name: string) {
    const now = this.deps.clock.now();
    const inbox = await repo.insertInbox(this.deps.db, { name, created_at: now, updated_at: now });
    return { inbox, channels: [] };
  }

  /** Renames an inbox, or says whether mail arriving there opens tickets, and in which pipeline. */
  async update(id: number, patch: { name?: string; createsTickets?: boolean; pipelineId?: number | null }) {
    if (patch.pipelineId !== undefined && patch.pipelineId !== null && (await this.deps.db.selectFrom('pipelines').select('id').where('id', '=', patch.pipelineId).executeTakeFirst()) === undefined) {
      throw errors.unprocessable('PIPELINE_NOT_FOUND', 'The pipeline does not exist.', [{ path: '/body/pipelineId', message: `There is no pipeline ${patch.pipelineId}: choose one that exists.` }]);
    }
    const set: RowUpdate<'inboxes'> = { updated_at: this.deps.clock.now() };
    if (patch.name !== undefined) set.name = patch.name;
    if (patch.createsTickets !== undefined) set.creates_tickets = patch.createsTickets ? 1 : 0;
    if (patch.pipelineId !== undefined) set.pipeline_id = patch.pipelineId;
    if ((await repo.updateInbox(this.deps.db, id, set)) === undefined) throw errors.notFound('inbox');
    return this.get(id);
  }

  async delete(id: number): Promise<void> {
    await this.deps.db.transaction().execute(async (tx) => {
      await this.get(id, tx);
      if (await repo.inboxHasThreads(tx, id)) throw errors.conflict('INBOX_IN_USE', 'Conversations are in this inbox; move or delete them first.');
      if ((await tx.selectFrom('forms').select('id').where('inbox_id', '=', id).executeTakeFirst()) !== undefined) {
        throw errors.conflict('INBOX_IN_USE', 'A support form files into this inbox; connect it to another inbox first.');
      }
      await repo.deleteInbox(tx, id);
    });
  }

  async addChannel(inboxId: number, input: { type: repo.ChannelRow['type']; name: string; address?: string | null; imap?: ImapInput | null }) {
    if (input.type === 'email' && (input.address === undefined || input.address === null)) {
      throw errors.unprocessable('ADDRESS_REQUIRED', 'An email channel needs the address it receives mail at.', [{ path: '/body/address', message: 'Enter the address this channel receives mail at.' }]);
    }
    if (input.type !== 'email' && input.address !== undefined && input.address !== null) {
      throw errors.unprocessable('ADDRESS_NOT_ALLOWED', 'Only an email channel has an address.', [{ path: '/body/address', message: 'Only an email channel has an address: leave this out.' }]);
    }
    const now = this.deps.clock.now();
    return this.deps.db.transaction().execute(async (tx) => {
      await this.get(inboxId, tx);
      try {
        const channel = await repo.insertChannel(tx, {
          inbox_id: inboxId, type: input.type, name: input.name,
          address: input.address?.trim() ?? null, address_key: input.address === undefined || input.address === null ? null : emailKey(input.address),
          created_at: now, updated_at: now,
        });
        if (input.imap !== undefined && input.imap !== null) await repo.updateChannel(tx, channel.id, this.imapColumns({ id: channel.id, type: input.type, imap_secret: null }, input.imap));
      } catch (error) {
        if (isUniqueViolation(error)) throw addressTaken();
        throw error;
      }
      return this.get(inboxId, tx);
    });
  }

  async updateChannel(inboxId: number, channelId: number, patch: { name?: string; address?: string | null; imap?: ImapInput | null }) {
    return this.deps.db.transaction().execute(async (tx) => {
      const channel = await repo.findChannelById(tx, channelId);
      if (channel?.inbox_id !== inboxId) throw errors.notFound('channel');
      const set: RowUpdate<'channels'> = { updated_at: this.deps.clock.now() };
      if (patch.name !== undefined) set.name = patch.name;
      if (patch.address !== undefined) {
        if (channel.type !== 'email') throw errors.unprocessable('ADDRESS_NOT_ALLOWED', 'Only an email channel has an address.', [{ path: '/body/address', message: 'Only an email channel has an address: leave this out.' }]);
        if (patch.address === null) throw errors.unprocessable('ADDRESS_REQUIRED', 'An email channel needs an address.', [{ path: '/body/address', message: 'An email channel keeps its address: enter another instead of removing it.' }]);
        set.address = patch.address.trim();
        set.address_key = emailKey(patch.address);
      }
      if (patch.imap !== undefined) Object.assign(set, this.imapColumns(channel, patch.imap));
      try {
        await repo.updateChannel(tx, channelId, set);
      } catch (error) {
        if (isUniqueViolation(error)) throw addressTaken();
        throw error;
      }
      return this.get(inboxId, tx);
    });
  }

  async deleteChannel(inboxId: number, channelId: number): Promise<void> {
    const channel = await repo.findChannelById(this.deps.db, channelId);
    if (channel?.inbox_id !== inboxId) throw errors.notFound('channel');
    await repo.deleteChannel(this.deps.db, channelId);
  }
}

/** Conversation threads, their messages and internal comments, and attachments (C3). */
export class ConversationsService {
  constructor(
    private readonly deps: Deps,
    private readonly tickets: TicketsService,
    private readonly timeline: TimelineService,
    private readonly files: FileStore,
  ) {}

  private staffMessageHook: ((tx: Tx, thread: repo.ThreadRow, message: repo.MessageRow) => Promise<void>) | undefined;

  /** Told, in the same transaction, of every staff message (not comment) added to a thread. */
  onStaffMessage(hook: (tx: Tx, thread: repo.ThreadRow, message: repo.MessageRow) => Promise<void>): void {
    this.staffMessageHook = hook;
  }

  async getThread(id: number, db: Conn = this.deps.db): Promise<repo.ThreadRow> {
    const thread = await repo.findThreadById(db, id);
    if (thread === undefined) throw errors.notFound('thread');
    return thread;
  }

  private async checkRefs(db: Conn, refs: { inboxId?: number; channelId?: number | null; ticketId?: number | null; contactId?: number | null; assigneeId?: number | null }, inboxOf?: number): Promise<void> {
    const missing = (field: string, what: string, id: number) =>
      errors.unprocessable(`${what.toUpperCase().replace(/ /g, '_')}_NOT_FOUND`, `The ${what} does not exist.`, [{ path: `/body/${field}`, message: `There is no ${what} ${id}: choose one that exists.` }]);
    if (refs.inboxId !== undefined && (await repo.findInboxById(db, refs.inboxId)) === undefined) throw missing('inboxId', 'inbox', refs.inboxId);
    if (refs.channelId !== undefined && refs.channelId !== null) {
      const channel = await repo.findChannelById(db, refs.channelId);
      if (channel?.inbox_id !== (refs.inboxId ?? inboxOf)) throw missing('channelId', 'channel', refs.channelId);
    }
    if (refs.ticketId !== undefined && refs.ticketId !== null && (await ticketsRepo.findTicketById(db, refs.ticketId)) === undefined) throw missing('ticketId', 'ticket', refs.ticketId);
    if (refs.contactId !== undefined && refs.contactId !== null && (await contactsRepo.findContactById(db, refs.contactId)) === undefined) throw missing('contactId', 'contact', refs.contactId);
    if (refs.assigneeId !== undefined && refs.assigneeId !== null && (await staffRepo.findStaffById(db, refs.assigneeId)) === undefined) throw missing('assigneeId', 'staff user', refs.assigneeId);
  }

  createThread(input: ThreadInput, author: Author): Promise<repo.ThreadRow> {
    return this.deps.db.transaction().execute((tx) => this.createThreadIn(tx, input, author));
  }

  /** Starts a thread, with its first message if given, in the caller's transaction (incoming mail makes one). */
  async createThreadIn(tx: Tx, input: ThreadInput, author: Author): Promise<repo.ThreadRow> {
    await this.checkRefs(tx, input);
    const now = this.deps.clock.now();
    const thread = await repo.insertThread(tx, {
      inbox_id: input.inboxId, channel_id: input.channelId ?? null, ticket_id: input.ticketId ?? null, contact_id: input.contactId ?? null,
      subject: input.subject.trim(), status: 'open', assignee_id: input.assigneeId ?? null,
      created_at: now, updated_at: now, last_message_at: now,
    });
    if (input.message !== undefined) {
      await this.addMessageIn(tx, { ...input.message, threadId: thread.id, kind: input.message.kind ?? 'message', author });
      return this.getThread(thread.id, tx);
    }
    return thread;
  }

  async updateThread(id: number, patch: { subject?: string; status?: 'open' | 'closed'; assigneeId?: number | null; ticketId?: number | null; contactId?: number | null; inboxId?: number }): Promise<repo.ThreadRow> {
    return this.deps.db.transaction().execute(async (tx) => {
      const current = await this.getThread(id, tx);
      await this.checkRefs(tx, patch, current.inbox_id);
      const set: RowUpdate<'threads'> = { updated_at: this.deps.clock.now() };
      if (patch.subject !== undefined) set.subject = patch.subject.trim();
      if (patch.status !== undefined) set.status = patch.status;
      if (patch.assigneeId !== undefined) set.assignee_id = patch.assigneeId;
      if (patch.ticketId !== undefined) set.ticket_id = patch.ticketId;
      if (patch.contactId !== undefined) set.contact_id = patch.contactId;
      if (patch.inboxId !== undefined && patch.inboxId !== current.inbox_id) {
        set.inbox_id = patch.inboxId;
        set.channel_id = null; // a channel belongs to its inbox
      }
      const thread = await repo.updateThread(tx, id, set);
      if (thread === undefined) throw errors.notFound('thread');
      return thread;
    });
  }

  async deleteThread(id: number): Promise<void> {
    if (!(await repo.deleteThread(this.deps.db, id))) throw errors.notFound('thread');
  }

  addMessage(input: NewMessage): Promise<repo.MessageRow> {
    return this.deps.db.transaction().execute((tx) => this.addMessageIn(tx, input));
  }

  /**
   * Adds a message or internal comment: the message, its attachments, the thread's and ticket's
   * last activity and the timeline entry commit together, in the caller's transaction.
   */
  async addMessageIn(tx: Tx, input: NewMessage): Promise<repo.MessageRow> {
    const html = input.bodyHtml === undefined ? null : sanitizeMessageHtml(input.bodyHtml);
    const text = (input.bodyText ?? (html === null ? '' : htmlToText(html))).trim();
    if (text === '' && (input.attachmentIds ?? []).length === 0 && (input.files ?? []).length === 0) {
      throw errors.unprocessable('EMPTY_MESSAGE', 'A message needs text or an attachment.', [{ path: '/body/bodyText', message: 'Write a message or attach a file.' }]);
    }
    const thread = await this.getThread(input.threadId, tx);
    // Nothing goes to the address a held mail claims until staff accept it (C12).
    if (input.kind === 'message' && input.author.type === 'staff' && (await repo.threadHasHeldMessage(tx, thread.id))) throw heldReply();
    const now = this.deps.clock.now();
    const message = await repo.insertMessage(tx, {
      thread_id: thread.id,
      kind: input.kind,
      author_type: input.author.type,
      contact_id: input.author.type === 'customer' ? input.author.contactId : null,
      staff_user_id: input.author.type === 'staff' ? input.author.staffUserId : null,
      body_text: text,
      body_html: html,
      created_at: now,
      authentication: input.sender === undefined ? null : JSON.stringify(input.sender),
      held: input.held === true ? 1 : 0,
    }, thread.ticket_id);
    await failpoint('message.inserted');
    const ids = input.attachmentIds ?? [];
    if (ids.length > 0) {
      const claimed = input.author.type === 'staff' ? await repo.claimAttachments(tx, ids, message.id, input.author.staffUserId) : 0;
      if (claimed !== ids.length) {
        throw errors.unprocessable('ATTACHMENT_NOT_AVAILABLE', 'An attachment is unknown, not yours, or already used.', [{ path: '/body/attachmentIds', message: 'Attach only files you uploaded yourself and have not attached yet.' }]);
      }
    }
    for (const file of input.files ?? []) {
      await repo.insertAttachment(tx, {
        message_id: message.id, sha256: file.sha256, size: file.size, filename: file.filename, content_type: file.contentType,
        uploaded_by_staff_id: null, created_at: now,
      });
    }
    await failpoint('message.attachments-inserted');
    await repo.updateThread(tx, thread.id, { last_message_at: now, updated_at: now });
    const targets: { type: 'ticket' | 'contact' | 'company'; id: number }[] = [];
    if (thread.contact_id !== null) targets.push({ type: 'contact', id: thread.contact_id });
    if (input.author.type === 'customer' && input.author.contactId !== null) targets.push({ type: 'contact', id: input.author.contactId });
    if (thread.ticket_id !== null) {
      await this.tickets.touchActivity(tx, thread.ticket_id, now);
      targets.push({ type: 'ticket', id: thread.ticket_id });
      const assoc = await ticketsRepo.associationsOf(tx, [thread.ticket_id]);
      for (const c of assoc.contacts.get(thread.ticket_id) ?? []) targets.push({ type: 'contact', id: c });
      for (const c of assoc.companies.get(thread.ticket_id) ?? []) targets.push({ type: 'company', id: c });
    }
    await this.timeline.record(tx, {
      type: input.kind === 'comment' ? 'note' : 'email',
      occurredAt: now,
      title: input.kind === 'comment' ? `Internal comment on “${thread.subject}”` : `${input.author.type === 'customer' ? 'Customer' : 'Staff'} message on “${thread.subject}”`,
      body: text,
      ticketId: thread.ticket_id,
      threadId: thread.id,
      messageId: message.id,
      staffUserId: input.author.type === 'staff' ? input.author.staffUserId : null,
      targets,
    });
    await failpoint('message.timeline-recorded');
    // A staff reply reaches the customer by mail, in this transaction (mail/notifications.ts).
    if (input.kind === 'message' && input.author.type === 'staff') await this.staffMessageHook?.(tx, thread, message);
    return message;
  }

  /**
   * Writes a file durably (temp file, fsync, rename) and tells what it is: the type comes from
   * its bytes, never from the client's claim. No row yet; the caller records it.
   */
  async storeFile(source: Readable, filename: string, declaredType: string, maxBytes = this.deps.config.attachmentLimit): Promise<StoredUpload> {
    const stored = await this.files.put(source, maxBytes);
    if (stored.size === 0) throw errors.unprocessable('EMPTY_FILE', 'The file is empty.');
    const sniffed = await fileTypeFromBuffer(stored.head);
    const contentType = sniffed?.mime ?? (declaredType.startsWith('text/plain') ? 'text/plain' : 'application/octet-stream');
    return { sha256: stored.sha256, size: stored.size, filename: cleanFilename(filename), contentType };
  }

  /** Stores an upload, then records it, unattached, for its uploader. */
  async upload(source: Readable, filename: string, declaredType: string, staffUserId: number): Promise<repo.AttachmentRow> {
    const file = await this.storeFile(source, filename, declaredType);
    return repo.insertAttachment(this.deps.db, {
      message_id: null,
      sha256: file.sha256,
      size: file.size,
      filename: file.filename,
      content_type: file.contentType,
      uploaded_by_staff_id: staffUserId,
      created_at: this.deps.clock.now(),
    });
  }

  async getAttachment(id: number): Promise<repo.AttachmentRow> {
    const row = await repo.findAttachmentById(this.deps.db, id);
    if (row === undefined) throw errors.notFound('attachment');
    return row;
  }

  /**
   * An attachment as a staff user may see it: any file on a message, but a file not yet on one
   * only by whoever uploaded it (someone else's draft, or a customer's upload that never became a
   * reply, answers like a missing one).
   */
  async getAttachmentForStaff(id: number, staffUserId: number): Promise<repo.AttachmentRow> {
    const row = await this.getAttachment(id);
    if (row.message_id === null && row.uploaded_by_staff_id !== staffUserId) throw errors.notFound('attachment');
    return row;
  }

  /** The attachment's bytes; its file missing (lost on disk) is a clear 404, never a failed stream. */
  async openAttachment(row: repo.AttachmentRow): Promise<Readable> {
    const body = await this.files.open(row.sha256);
    if (body === undefined) throw errors.attachmentFileMissing(row.id);
    return body;
  }

  /**
   * Deletes stored files no attachment points at (a refused reply's, a crash's) once they are
   * older than `graceMs`, which must outlast any upload still on its way to a commit.
   */
  async sweepOrphanFiles(graceMs = 60 * 60 * 1000): Promise<number> {
    return this.files.sweep(this.deps.clock.now() - graceMs, async (hashes) => {
      // Attachments, and the raw bytes of every mail received (kept for reprocessing).
      const rows = await this.deps.db.selectFrom('attachments').select('sha256').distinct().where('sha256', 'in', hashes).execute();
      const raw = await this.deps.db.selectFrom('inbound_mail').select('raw_sha256').distinct().where('raw_sha256', 'in', hashes).execute();
      const kept = new Set([...rows.map((r) => r.sha256), ...raw.map((r) => r.raw_sha256)]);
      for (const keeper of this.keepers) for (const sha of await keeper(hashes)) kept.add(sha);
      return kept;
    });
  }

  private readonly keepers: ((hashes: string[]) => Promise<Set<string>>)[] = [];
  /** Other owners of stored files (portal logos) name theirs, so the sweep keeps them. */
  alsoKeepFiles(keeper: (hashes: string[]) => Promise<Set<string>>): void {
    this.keepers.push(keeper);
  }
}

/** The longest file name, in UTF-8 bytes, that file systems and download headers take. */
export const MAX_FILENAME_BYTES = 255;

/** The longest start of `text` that fits in `maxBytes` of UTF-8, never cutting a character in two. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char);
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += char.length;
  }
  return text.slice(0, end);
}

/**
 * A file name safe to store and to send back in Content-Disposition: no path, no control or
 * reserved characters, at most 255 bytes of UTF-8 (its extension kept when it is short).
 */
export function cleanFilename(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  const cleaned = base.replace(/[\u0000-\u001f\u007f"<>|*?:]/g, '_').replace(/^\.+/, '').trim();
  if (cleaned === '') return 'file';
  if (Buffer.byteLength(cleaned) <= MAX_FILENAME_BYTES) return cleaned;
  const dot = cleaned.lastIndexOf('.');
  const extension = dot > 0 && cleaned.length - dot <= 16 ? cleaned.slice(dot) : '';
  return truncateUtf8(cleaned.slice(0, cleaned.length - extension.length), MAX_FILENAME_BYTES - Buffer.byteLength(extension)).trimEnd() + extension;
}
