import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import PostalMime, { type Email } from 'postal-mime';
import type { Conn, Tx } from '../../db/database.js';
import { isUniqueViolation } from '../../db/db-errors.js';
import type { Row } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { AppError, errors } from '../../errors.js';
import type { FileStore } from '../../storage/file-store.js';
import { emailKey } from '../../util/email.js';
import type { ContactsService } from '../contacts/contacts.service.js';
import { cleanFilename, type ConversationsService, type StoredUpload } from '../conversations/conversations.service.js';
import type { TicketsService } from '../tickets/tickets.service.js';
import { headerText, isMailAddress } from './outbox.service.js';
import { recordAuthentication } from './inbound.repository.js';
import { MailScanner } from './mail-scan.js';
import type { ReplyTokens } from './reply-tokens.js';
import type { SenderChecks } from './sender-checks.js';
import { isHeld, readVerdict, type SenderVerdict } from './sender-verdict.js';

export type InboundRow = Row<'inbound_mail'>;
type ChannelRow = Row<'channels'>;

/** The largest message the listener accepts (bytes); SIZE is advertised, larger is refused with 552. */
export const MAX_MESSAGE_BYTES = 40 * 1024 * 1024;
/** At most this many attachments of one message are kept. */
const MAX_ATTACHMENTS = 50;

/** A mail as it arrived, before anything is read from it. */
export interface ArrivedMail {
  source: 'smtp' | 'imap';
  /** The connected channel it arrived for (IMAP: the channel polled; SMTP: its recipient). */
  channelId: number;
  envelopeFrom: string | null;
  recipients: string[];
  /** The mail's bytes: in memory (IMAP), or a stream (SMTP's DATA), which is spooled to disk and never held whole. */
  raw: Buffer | Readable;
  /** SMTP: the connecting client's address and the name it gave in HELO/EHLO, for the SPF check. */
  client?: { ip: string; helo: string | null };
}

/** `<id@host>` as one canonical form: angle brackets, no spaces; undefined when it is not one. */
export function normalizeMessageId(value: string | undefined): string | undefined {
  const match = /<([^<>\s]{1,900})>/.exec(value ?? '') ?? /^\s*([^<>\s]{1,900}@[^<>\s]+)\s*$/.exec(value ?? '');
  return match?.[1] === undefined ? undefined : `<${match[1]}>`;
}

/** Every Message-ID named in In-Reply-To and References, the direct parent first. */
function parentIds(email: Email): string[] {
  const all = `${email.inReplyTo ?? ''} ${[...(email.references ?? '').matchAll(/<[^<>\s]+>/g)].map((m) => m[0]).reverse().join(' ')}`;
  return [...new Set([...all.matchAll(/<[^<>\s]{1,900}>/g)].map((m) => m[0]))].slice(0, 50);
}

/**
 * Mail that must not open or answer a thread, and why: automatic replies and bounces (RFC 3834
 * Auto-Submitted, Precedence, the common autoresponder headers, delivery reports, the null
 * sender), so two systems can never answer each other forever.
 */
export function automaticReason(email: Email, envelopeFrom: string | null, ourAddress: string): string | undefined {
  const header = (name: string) => email.headers.find((h) => h.key === name)?.value.trim().toLowerCase();
  const autoSubmitted = header('auto-submitted');
  if (autoSubmitted !== undefined && autoSubmitted !== 'no') return `automatic reply (Auto-Submitted: ${autoSubmitted.slice(0, 40)})`;
  const precedence = header('precedence');
  if (precedence === 'bulk' || precedence === 'junk' || precedence === 'list' || precedence === 'auto_reply') return `automatic mail (Precedence: ${precedence})`;
  for (const name of ['x-autoreply', 'x-autorespond', 'x-auto-response-suppress']) {
    if (name === 'x-auto-response-suppress' ? /\b(all|oof|autoreply)\b/.test(header(name) ?? '') : header(name) !== undefined) return `automatic reply (${name})`;
  }
  if (/multipart\/report/i.test(header('content-type') ?? '') || envelopeFrom === '' || /^(mailer-daemon|postmaster)@/i.test(mailboxOf(email.from) ?? '')) return 'delivery report (bounce)';
  if ((mailboxOf(email.from) ?? '').toLowerCase() === ourAddress.toLowerCase()) return 'sent by Portico itself';
  return undefined;
}

function mailboxOf(address: Email['from']): string | undefined {
  if (address === undefined) return undefined;
  return address.address ?? address.group[0]?.address;
}

/**
 * Incoming email (C6, P2): each mail for a connected address is first kept raw, once per
 * Message-ID, and only then acknowledged; processing turns it into a thread (and a ticket where
 * the inbox makes them) for the sender's contact, or a reply in the thread one of our signed
 * Message-IDs names, with its attachments. Automatic mail is set aside; mail that cannot be read
 * waits in the failed-mail store for staff to reprocess. Who sent it is checked first (C12: SPF,
 * DKIM, DMARC); a mail that fails its domain's DMARC is held: its own new thread, no new contact,
 * off the portal until staff accept it.
 */
export class InboundMailService {
  constructor(
    private readonly deps: Deps,
    private readonly files: FileStore,
    private readonly conversations: ConversationsService,
    private readonly contacts: ContactsService,
    private readonly tickets: TicketsService,
    private readonly tokens: ReplyTokens,
    private readonly senders: SenderChecks,
  ) {}

  /** The email channel an address reaches (its +tag ignored), or undefined: mail for it is refused (P2). */
  async channelFor(address: string): Promise<ChannelRow | undefined> {
    const key = emailKey(address.replace(/\+[^@]*@/, '@'));
    return this.deps.db.selectFrom('channels').selectAll().where('type', '=', 'email').where('address_key', '=', key).executeTakeFirst();
  }

  /**
   * Keeps a mail: its bytes durably in the file store (streamed: a mail is never held whole, and
   * one over MAX_MESSAGE_BYTES stops at the limit), then its row. A mail is known by its
   * Message-ID and what it says (its fingerprint: the sender's headers and the body, not the
   * trace headers relays add): the same mail again is a `duplicate`, and nothing new is kept;
   * another mail that reuses a Message-ID is kept as a mail of its own, marked with the earlier
   * one (`duplicate_of`), so nobody who knows a Message-ID can make a later mail disappear.
   */
  async store(mail: ArrivedMail, maxBytes = MAX_MESSAGE_BYTES): Promise<{ id: number; duplicate: boolean }> {
    const source = Buffer.isBuffer(mail.raw) ? Readable.from([mail.raw]) : mail.raw;
    const scanner = new MailScanner();
    let stored;
    try {
      stored = await this.files.put(source.pipe(scanner), maxBytes);
    } catch (error) {
      // The rest of the stream is the caller's to drain (SMTP answers 552 once it has).
      source.unpipe(scanner);
      scanner.destroy();
      throw error;
    }
    const messageId = normalizeMessageId(scanner.fields().get('message-id')?.[0]);
    const fingerprint = scanner.fingerprint();
    const dedupeKey = messageId === undefined ? `sha256:${fingerprint}` : `mid:${messageId.toLowerCase()}#${fingerprint}`;
    const db = this.deps.db;
    if (messageId !== undefined) {
      // Kept before fingerprints: the same Message-ID and the same bytes is the same mail.
      const legacy = await db.selectFrom('inbound_mail').select(['id', 'raw_sha256']).where('dedupe_key', '=', `mid:${messageId.toLowerCase()}`).executeTakeFirst();
      if (legacy?.raw_sha256 === stored.sha256) return { id: legacy.id, duplicate: true };
    }
    const earlier = messageId === undefined ? undefined
      : await db.selectFrom('inbound_mail').select('id').where('message_id', '=', messageId).orderBy('id').limit(1).executeTakeFirst();
    const values = {
      dedupe_key: dedupeKey, message_id: messageId ?? null, channel_id: mail.channelId, source: mail.source,
      envelope_from: mail.envelopeFrom === null ? null : headerText(mail.envelopeFrom, 254), recipients: JSON.stringify(mail.recipients.slice(0, 100)),
      raw_sha256: stored.sha256, raw_size: stored.size, subject: headerText(scanner.field('subject') ?? '', 500) || null, from_address: headerText(scanner.field('from') ?? '', 500) || null,
      status: 'received' as const, received_at: this.deps.clock.now(),
      client_ip: mail.client === undefined ? null : headerText(mail.client.ip, 100), helo: headerText(mail.client?.helo ?? '', 255) || null,
    };
    try {
      const row = await db.insertInto('inbound_mail').values({ ...values, duplicate_of: earlier?.id ?? null }).returning('id').executeTakeFirstOrThrow();
      return { id: row.id, duplicate: false };
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      const existing = await db.selectFrom('inbound_mail').select('id').where('dedupe_key', '=', dedupeKey).executeTakeFirstOrThrow();
      return { id: existing.id, duplicate: true };
    }
  }

  async get(id: number, db: Conn = this.deps.db): Promise<InboundRow> {
    const row = await db.selectFrom('inbound_mail').selectAll().where('id', '=', id).executeTakeFirst();
    if (row === undefined) throw errors.notFound('mail');
    return row;
  }

  list(options: { status?: InboundRow['status']; beforeId?: number; limit: number }): Promise<InboundRow[]> {
    let q = this.deps.db.selectFrom('inbound_mail').selectAll();
    if (options.status !== undefined) q = q.where('status', '=', options.status);
    if (options.beforeId !== undefined) q = q.where('id', '<', options.beforeId);
    return q.orderBy('id', 'desc').limit(options.limit + 1).execute();
  }

  /** The raw message, as received. */
  async raw(row: InboundRow): Promise<Buffer> {
    return readFile(this.files.pathOf(row.raw_sha256));
  }

  /** Mail received but not yet processed (after a crash, or while processing was failing), oldest first. */
  async pending(limit: number): Promise<number[]> {
    const rows = await this.deps.db.selectFrom('inbound_mail').select('id').where('status', '=', 'received').orderBy('id').limit(limit).execute();
    return rows.map((r) => r.id);
  }

  /** Staff send a failed or ignored mail through processing again. */
  async reprocess(id: number): Promise<InboundRow> {
    const row = await this.get(id);
    if (row.status === 'processed') throw errors.conflict('ALREADY_PROCESSED', 'This mail is already in a thread.');
    await this.deps.db.updateTable('inbound_mail').set({ status: 'received', reason: null }).where('id', '=', id).execute();
    return this.process(id, { force: true });
  }

  private async setAside(id: number, status: 'ignored' | 'failed', reason: string): Promise<InboundRow> {
    await this.deps.db.updateTable('inbound_mail').set((eb) => ({ status, reason: reason.slice(0, 500), processed_at: this.deps.clock.now(), attempts: eb('attempts', '+', 1) }))
      .where('id', '=', id).where('status', '=', 'received').execute();
    return this.get(id);
  }

  /**
   * Turns a received mail into a thread message. Idempotent: only a mail still `received` is
   * processed, and marking it processed commits with the thread and message it made.
   */
  async process(id: number, options: { force?: boolean } = {}): Promise<InboundRow> {
    const row = await this.get(id);
    if (row.status !== 'received') return row;
    if (row.attempts >= 5 && options.force !== true) return this.setAside(id, 'failed', 'processing failed five times');
    const raw = await this.raw(row);
    let email: Email;
    try {
      email = await PostalMime.parse(raw, { attachmentEncoding: 'arraybuffer', maxNestingDepth: 100, maxHeadersSize: 1024 * 1024 });
    } catch (error) {
      return this.setAside(id, 'failed', `the message cannot be read: ${error instanceof Error ? error.message : 'unknown error'}`);
    }
    const automatic = automaticReason(email, row.envelope_from, this.deps.config.mailFrom.address);
    if (automatic !== undefined) return this.setAside(id, 'ignored', automatic);
    const from = mailboxOf(email.from)?.trim();
    if (from === undefined || !isMailAddress(from)) return this.setAside(id, 'failed', 'no usable sender address');
    const channel = row.channel_id === null ? undefined : await this.deps.db.selectFrom('channels').selectAll().where('id', '=', row.channel_id).executeTakeFirst();
    if (channel === undefined) return this.setAside(id, 'failed', 'its channel no longer exists');
    const sender = await this.senderOf(row, raw, from);
    const held = isHeld(sender);

    const files: StoredUpload[] = [];
    const notes: string[] = [];
    for (const attachment of email.attachments.slice(0, MAX_ATTACHMENTS)) {
      const bytes = typeof attachment.content === 'string' ? Buffer.from(attachment.content, 'utf8') : Buffer.from(attachment.content instanceof ArrayBuffer ? new Uint8Array(attachment.content) : attachment.content);
      const name = cleanFilename(attachment.filename ?? (attachment.contentId === undefined ? 'attachment' : `inline-${attachment.contentId.replace(/[<>]/g, '')}`));
      if (bytes.length === 0) continue;
      try {
        files.push(await this.conversations.storeFile(Readable.from([bytes]), name, attachment.mimeType));
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        notes.push(`(The attachment ${name} was not kept: ${error.message})`);
      }
    }
    if (email.attachments.length > MAX_ATTACHMENTS) notes.push(`(${email.attachments.length - MAX_ATTACHMENTS} more attachments were not kept.)`);
    let text = [email.text ?? '', ...notes].join('\n\n').trim();
    const html = email.html;
    if (text === '' && (html === undefined || html.trim() === '') && files.length === 0) text = '(no text)';
    const subject = headerText(email.subject ?? '', 300) || '(no subject)';
    const name = email.from?.name.trim() ?? '';

    // Counted before the transaction, so a processing that keeps failing reaches the cap above.
    await this.deps.db.updateTable('inbound_mail').set((eb) => ({ attempts: eb('attempts', '+', 1) })).where('id', '=', id).where('status', '=', 'received').execute();
    const attempt = () => this.deps.db.transaction().execute(async (tx) => {
      // Only a mail still received is processed: of two processes at once, one makes the thread.
      const claimed = await tx.updateTable('inbound_mail').set((eb) => ({ attempts: eb.ref('attempts') })).where('id', '=', id).where('status', '=', 'received').returning('id').executeTakeFirst();
      if (claimed === undefined) return;
      // A held mail (C12) makes no contact for an address nobody has yet, and joins no conversation: it starts its own.
      const known = (await tx.selectFrom('contacts').select('id').where('email_key', '=', emailKey(from)).executeTakeFirst())?.id;
      const contactId = known ?? (held ? null : (await this.contacts.createIn(tx, { email: from, ...(name === '' ? {} : { firstName: headerText(name, 200) }) })).id);
      let threadId = held || contactId === null ? undefined : await this.threadFor(tx, email, contactId);
      const message = { bodyText: text === '' ? undefined : text, ...(html === undefined || html.trim() === '' ? {} : { bodyHtml: html }), files, sender, held };
      if (threadId === undefined) {
        const ticketId = await this.ticketFor(tx, channel.inbox_id, subject, contactId, held);
        const thread = await this.conversations.createThreadIn(tx, { inboxId: channel.inbox_id, channelId: channel.id, ticketId, contactId, subject }, { type: 'system' });
        threadId = thread.id;
      } else {
        // A reply reopens its thread.
        await tx.updateTable('threads').set({ status: 'open' }).where('id', '=', threadId).where('status', '=', 'closed').execute();
      }
      const messageRowId = (await this.conversations.addMessageIn(tx, { ...message, threadId, kind: 'message', author: { type: 'customer', contactId } })).id;
      await tx.updateTable('inbound_mail').set({ status: 'processed', reason: null, thread_id: threadId, message_row_id: messageRowId, processed_at: this.deps.clock.now() }).where('id', '=', id).execute();
    });
    try {
      await attempt();
    } catch (error) {
      // The sender's contact was created at the same moment by another mail: again, finding it.
      if (isUniqueViolation(error) || (error instanceof AppError && error.status === 409)) await attempt();
      else if (error instanceof AppError && error.status < 500) return this.setAside(id, 'failed', error.message);
      else throw error;
    }
    return this.get(id);
  }

  /**
   * The thread a reply belongs to: the first parent Message-ID that is one of ours (its signature
   * checks), whose thread is this contact's, or its ticket's. Anything else starts a new thread.
   */
  private async threadFor(tx: Tx, email: Email, contactId: number): Promise<number | undefined> {
    for (const parent of parentIds(email)) {
      const threadId = this.tokens.threadOf(parent);
      if (threadId === undefined) continue;
      const thread = await tx.selectFrom('threads').select(['id', 'contact_id', 'ticket_id']).where('id', '=', threadId).executeTakeFirst();
      if (thread === undefined) continue;
      if (thread.contact_id === contactId) return thread.id;
      if (thread.ticket_id !== null) {
        const onTicket = await tx.selectFrom('ticket_contacts').select('contact_id').where('ticket_id', '=', thread.ticket_id).where('contact_id', '=', contactId).executeTakeFirst();
        if (onTicket !== undefined) return thread.id;
      }
    }
    return undefined;
  }

  /** A new ticket for a new thread, where the inbox makes them; in its pipeline, or the first one; held with its mail. */
  private async ticketFor(tx: Tx, inboxId: number, subject: string, contactId: number | null, held: boolean): Promise<number | null> {
    const inbox = await tx.selectFrom('inboxes').select(['creates_tickets', 'pipeline_id']).where('id', '=', inboxId).executeTakeFirstOrThrow();
    if (inbox.creates_tickets !== 1) return null;
    const pipelineId = inbox.pipeline_id ?? (await tx.selectFrom('pipelines').select('id').orderBy('id').executeTakeFirst())?.id;
    if (pipelineId === undefined) return null;
    return (await this.tickets.create({ subject, pipelineId, contactIds: contactId === null ? [] : [contactId], source: 'email', held }, null, tx)).id;
  }

  /**
   * Who sent the mail (C12): the checks are made once, with the connection it came on, and
   * recorded with it before it is threaded; a mail processed again keeps its first verdict.
   */
  private async senderOf(row: InboundRow, raw: Buffer, from: string): Promise<SenderVerdict> {
    const known = readVerdict(row.authentication);
    if (known !== undefined && known.address === from) return known;
    const verdict = await this.senders.check(raw, from, { source: row.source, clientIp: row.client_ip, helo: row.helo, envelopeFrom: row.envelope_from });
    await recordAuthentication(this.deps.db, row.id, JSON.stringify(verdict));
    return verdict;
  }
}
