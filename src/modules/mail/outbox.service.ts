import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Conn } from '../../db/database.js';
import type { OutboxStatus, Row } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { errors } from '../../errors.js';

export type OutboxRow = Row<'outbox'>;

/** An email to write to the outbox. */
export interface OutgoingMail {
  /** What caused it (member.verify, member.reset, …), for staff reading the queue. */
  kind: string;
  portalId?: number | null;
  to: { address: string; name?: string | null };
  subject: string;
  text: string;
  html?: string | null;
  /** A Message-ID chosen by the caller (a signed reply token); otherwise a random one. */
  messageId?: string;
  /** The Message-ID this mail answers, and the conversation's earlier ones. */
  inReplyTo?: string | null;
  references?: string[];
  /** Where answers should go, when not to the sender (a staff reply: its inbox's address). */
  replyTo?: { address: string; name?: string | null } | null;
}

/**
 * A header value from text someone typed: one line, no control characters. nodemailer encodes
 * what is left (RFC 2047 for non-ASCII), so nothing a user typed can start a header of its own.
 */
export function headerText(value: string, max = 900): string {
  // eslint-disable-next-line no-control-regex -- control characters are what this removes
  return value.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').trim().slice(0, max);
}

/** An address we will put in a header: one @, no spaces, brackets, quotes or control characters. */
export function isMailAddress(address: string): boolean {
  // eslint-disable-next-line no-control-regex -- control characters are what this refuses
  return address.length <= 254 && /^[^\s@<>()[\]\\,;:"\u0000-\u001f\u007f]+@[^\s@<>()[\]\\,;:"\u0000-\u001f\u007f]+\.[^\s@<>()[\]\\,;:"\u0000-\u001f\u007f]+$/.test(address);
}

/**
 * The outbox (C6): mail is written in the caller's transaction, so it exists exactly when the
 * change that caused it committed, and OutboxWorker sends it. Without SMTP it stays here, where
 * staff read it (the development mailbox).
 */
export class OutboxService {
  constructor(private readonly deps: Deps) {}

  /** Writes a mail in `db` (the caller's transaction). Its Message-ID is fixed now, for every attempt. */
  async enqueue(db: Conn, mail: OutgoingMail): Promise<OutboxRow> {
    const to = mail.to.address.trim();
    if (!isMailAddress(to)) throw errors.validation([{ path: '/to', message: 'Enter an email address mail can be sent to.' }], 'The email address cannot receive mail.');
    const replyTo = mail.replyTo === undefined || mail.replyTo === null || !isMailAddress(mail.replyTo.address.trim()) ? null : mail.replyTo;
    const { mailFrom } = this.deps.config;
    const domain = mailFrom.address.split('@')[1] ?? 'portico.invalid';
    const now = this.deps.clock.now();
    return db.insertInto('outbox').values({
      message_id: mail.messageId ?? `<${randomUUID()}@${domain}>`,
      in_reply_to: mail.inReplyTo ?? null,
      reference_ids: mail.references === undefined || mail.references.length === 0 ? null : mail.references.join(' '),
      kind: mail.kind,
      portal_id: mail.portalId ?? null,
      to_address: to,
      to_name: mail.to.name === undefined || mail.to.name === null ? null : headerText(mail.to.name, 200) || null,
      from_address: mailFrom.address,
      from_name: mailFrom.name === null ? null : headerText(mailFrom.name, 200),
      subject: headerText(mail.subject),
      reply_to_address: replyTo?.address.trim() ?? null,
      reply_to_name: replyTo?.name === undefined || replyTo.name === null ? null : headerText(replyTo.name, 200) || null,
      text_body: mail.text,
      html_body: mail.html ?? null,
      status: 'queued',
      next_attempt_at: now,
      created_at: now,
    }).returningAll().executeTakeFirstOrThrow();
  }

  async get(id: number): Promise<OutboxRow> {
    const row = await this.deps.db.selectFrom('outbox').selectAll().where('id', '=', id).executeTakeFirst();
    if (row === undefined) throw errors.notFound('message');
    return row;
  }

  /** Newest first; `beforeId` continues a page. */
  list(options: { status?: OutboxStatus; to?: string; beforeId?: number; limit: number }): Promise<OutboxRow[]> {
    let q = this.deps.db.selectFrom('outbox').selectAll();
    if (options.status !== undefined) q = q.where('status', '=', options.status);
    if (options.to !== undefined) q = q.where('to_address', '=', options.to);
    if (options.beforeId !== undefined) q = q.where('id', '<', options.beforeId);
    return q.orderBy('id', 'desc').limit(options.limit + 1).execute();
  }

  /** A failed mail goes back in the queue, due now, with a fresh count of attempts. */
  async retry(id: number): Promise<OutboxRow> {
    const now = this.deps.clock.now();
    const row = await this.deps.db.updateTable('outbox')
      .set({ status: 'queued', attempts: 0, next_attempt_at: now, claimed_until: null })
      .where('id', '=', id).where('status', '=', 'failed')
      .returningAll().executeTakeFirst();
    if (row !== undefined) return row;
    await this.get(id);
    throw errors.conflict('MESSAGE_NOT_FAILED', 'Only a failed message can be sent again.');
  }

  /** How many mails wait, are being sent, or failed: the queue's depth for /metrics (sent mail is not counted). */
  async depth(): Promise<Record<Exclude<OutboxStatus, 'sent'>, number>> {
    const rows = await this.deps.db.selectFrom('outbox').select(['status', sql<number>`count(*)`.as('n')])
      .where('status', 'in', ['queued', 'sending', 'failed']).groupBy('status').execute();
    const out = { queued: 0, sending: 0, failed: 0 };
    for (const r of rows) if (r.status !== 'sent') out[r.status] = r.n;
    return out;
  }

  /** Forgets sent mail older than `days` (it held one-time links; nobody needs it after). */
  async purgeSent(days: number): Promise<number> {
    const before = this.deps.clock.now() - days * 86_400_000;
    const r = await this.deps.db.deleteFrom('outbox').where('status', '=', 'sent').where('created_at', '<', before).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
