import nodemailer from 'nodemailer';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { SmtpConfig } from '../../config.js';
import type { Deps } from '../../deps.js';
import { failpoint } from '../../util/failpoints.js';
import type { OutboxRow } from './outbox.service.js';

/**
 * How long a claimed mail is held by the worker sending it, renewed every RENEW_EVERY_MS while
 * the worker lives; a dead worker's mail goes to another within this long.
 */
export const LEASE_MS = 30_000;
export const RENEW_EVERY_MS = 10_000;
/** However alive, a worker holds a batch no longer than this (its SMTP timeouts end a send well before). */
export const MAX_HOLD_MS = 5 * 60_000;
/** A mail still not sent this long after it was written is given up (marked failed). */
export const MAX_AGE_MS = 3 * 24 * 3_600_000;
const BATCH = 20;

/** What the worker needs of a mail transport: nodemailer's, or a test's. */
export interface MailTransport {
  send(mail: OutboxRow): Promise<void>;
  close(): void;
}

/** Waits grow 30 s, 1 min, 2 min, … up to an hour, each stretched by up to a tenth at random. */
export function backoffMs(attempts: number, random: () => number = Math.random): number {
  const base = Math.min(30_000 * 2 ** Math.max(0, attempts - 1), 3_600_000);
  return Math.round(base * (1 + random() / 10));
}

/**
 * Whether an SMTP failure is for good: the server refused this message (5xx, as nodemailer
 * reads the reply). Not a failed sign-in to the server (a configuration to fix, after which the
 * mail should go), not a connection refused or timed out, not a 4xx.
 */
export function isPermanent(error: unknown): boolean {
  const e = error as { permanent?: boolean; code?: string; command?: string } | null;
  if (e === null || typeof e !== 'object') return false;
  if (e.code === 'EAUTH' || (e.command ?? '').toUpperCase().startsWith('AUTH')) return false;
  return e.permanent === true;
}

/** What a failure says, without anything that could be a credential. */
function describe(error: unknown): string {
  const e = error as { code?: string; responseCode?: number; response?: string; message?: string } | null;
  const text = e?.response ?? e?.message ?? String(error);
  return [e?.code, e?.responseCode, text].filter((p) => p !== undefined && p !== '').join(' ').slice(0, 500);
}

/** nodemailer over SMTP, one pooled connection or two, with timeouts well inside the lease. */
export function smtpTransport(config: SmtpConfig): MailTransport {
  const transport = nodemailer.createTransport({
    host: config.host,
    port: config.port,
    secure: config.secure,
    requireTLS: config.requireTls,
    pool: true,
    maxConnections: 2,
    connectionTimeout: 30_000,
    greetingTimeout: 30_000,
    socketTimeout: 60_000,
    ...(config.user === null ? {} : { auth: { user: config.user, pass: config.password ?? '' } }),
    tls: { rejectUnauthorized: true, minVersion: 'TLSv1.2' },
  });
  return {
    async send(mail) {
      await transport.sendMail({
        messageId: mail.message_id,
        date: new Date(mail.created_at),
        from: { address: mail.from_address, name: mail.from_name ?? '' },
        to: { address: mail.to_address, name: mail.to_name ?? '' },
        subject: mail.subject,
        text: mail.text_body,
        ...(mail.html_body === null ? {} : { html: mail.html_body }),
        ...(mail.in_reply_to === null ? {} : { inReplyTo: mail.in_reply_to }),
        ...(mail.reply_to_address === null ? {} : { replyTo: { address: mail.reply_to_address, name: mail.reply_to_name ?? '' } }),
        ...(mail.reference_ids === null ? {} : { references: mail.reference_ids.split(' ') }),
        // Machines answering machines: no vacation replies to a password reset. A person's reply
        // in a thread is not automatic, but asks for no out-of-office answer either.
        headers: mail.kind === 'thread.reply' ? { 'X-Auto-Response-Suppress': 'OOF, AutoReply' } : { 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All' },
        disableFileAccess: true,
        disableUrlAccess: true,
      });
    },
    close() {
      transport.close();
    },
  };
}

export interface WorkerResult {
  sent: number;
  retried: number;
  failed: number;
}

/**
 * Sends the outbox. Each round claims due mail in one UPDATE (SKIP LOCKED on PostgreSQL; SQLite
 * runs one writer at a time), so two workers never hold the same mail; a claim is a lease, so a
 * worker that dies mid-send leaves its mail to the next one after LEASE_MS: sent again, with
 * the same Message-ID, never lost.
 */
export class OutboxWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<WorkerResult> | undefined;
  private stopped = false;
  /** The mail this worker holds now, and the lease they share. */
  private held: { ids: Set<number>; until: number; since: number } = { ids: new Set(), until: 0, since: 0 };
  /** Writes about held mail, one after another (a renewal never races a result). */
  private serial: Promise<unknown> = Promise.resolve();

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const next = this.serial.then(work);
    this.serial = next.catch(() => undefined);
    return next;
  }

  /**
   * Extends the lease on the mail this worker still holds, while it lives (every RENEW_EVERY_MS
   * during a round). A mail whose lease ran out meanwhile, and another worker took, is let go.
   */
  renew(): Promise<void> {
    return this.serially(async () => {
      const now = this.deps.clock.now();
      if (this.held.ids.size === 0 || now - this.held.since > MAX_HOLD_MS) return;
      const until = now + LEASE_MS;
      const kept = await this.deps.db.updateTable('outbox').set({ claimed_until: until })
        .where('id', 'in', [...this.held.ids]).where('status', '=', 'sending').where('claimed_until', '=', this.held.until)
        .returning('id').execute();
      this.held = { ids: new Set(kept.map((r) => r.id)), until, since: this.held.since };
    });
  }

  constructor(
    private readonly deps: Deps,
    private readonly transport: MailTransport,
    private readonly log: Pick<Logger, 'info' | 'warn' | 'error'>,
  ) {}

  /** Claims the due mail (queued and due, or sending past its lease), up to `limit`. */
  private async claim(limit: number): Promise<OutboxRow[]> {
    const now = this.deps.clock.now();
    const due = this.deps.db.selectFrom('outbox').select('id')
      .where((eb) => eb.or([
        eb.and([eb('status', '=', 'queued'), eb('next_attempt_at', '<=', now)]),
        eb.and([eb('status', '=', 'sending'), eb('claimed_until', '<=', now)]),
      ]))
      .orderBy('next_attempt_at').orderBy('id').limit(limit);
    const dueIds = this.deps.dialect === 'postgres' ? due.forUpdate().skipLocked() : due;
    const claimed = await this.serially(() => this.deps.db.updateTable('outbox')
      .set({ status: 'sending', claimed_until: now + LEASE_MS, attempts: sql`attempts + 1` })
      .where('id', 'in', dueIds)
      .returningAll()
      .execute());
    this.held = { ids: new Set(claimed.map((m) => m.id)), until: now + LEASE_MS, since: now };
    return claimed;
  }

  private async deliver(mail: OutboxRow): Promise<'sent' | 'retried' | 'failed'> {
    const { db, clock } = this.deps;
    try {
      await this.transport.send(mail);
    } catch (error) {
      const now = clock.now();
      const tooOld = now - mail.created_at >= MAX_AGE_MS;
      const permanent = isPermanent(error) || tooOld;
      const reason = describe(error);
      await this.serially(async () => {
        const ours = this.held.ids.delete(mail.id);
        if (!ours) return;
        await db.updateTable('outbox')
          .set(permanent
            ? { status: 'failed', claimed_until: null, last_error: tooOld && !isPermanent(error) ? `gave up after ${mail.attempts} attempts: ${reason}` : reason }
            : { status: 'queued', claimed_until: null, next_attempt_at: now + backoffMs(mail.attempts), last_error: reason })
          // Only while the lease is still ours: past it, another worker may hold this mail.
          .where('id', '=', mail.id).where('status', '=', 'sending').where('claimed_until', '=', this.held.until)
          .execute();
      });
      (permanent ? this.log.error : this.log.warn).call(this.log, { outboxId: mail.id, messageId: mail.message_id, attempts: mail.attempts, reason }, permanent ? 'mail failed for good' : 'mail will be retried');
      return permanent ? 'failed' : 'retried';
    }
    // The server has the mail. A crash before the next line sends it again, with its Message-ID.
    await failpoint('outbox.accepted');
    await this.serially(async () => {
      this.held.ids.delete(mail.id);
      await db.updateTable('outbox').set({ status: 'sent', sent_at: clock.now(), claimed_until: null, last_error: null })
        .where('id', '=', mail.id).execute();
    });
    return 'sent';
  }

  /** One round: claim what is due and send it, a batch at a time, until nothing is due. */
  async runOnce(): Promise<WorkerResult> {
    const result: WorkerResult = { sent: 0, retried: 0, failed: 0 };
    // While a batch is being sent, its lease is renewed: only a dead worker's mail is taken over.
    const renewal = setInterval(() => {
      this.renew().catch((err: unknown) => { this.log.warn({ err }, 'outbox lease renewal failed'); });
    }, RENEW_EVERY_MS);
    renewal.unref();
    try {
      for (;;) {
        const batch = await this.claim(BATCH);
        for (const mail of batch) result[await this.deliver(mail)] += 1;
        if (batch.length < BATCH || this.stopped) return result;
      }
    } finally {
      clearInterval(renewal);
    }
  }

  private tick(): void {
    this.running ??= this.runOnce().catch((err: unknown) => {
      this.log.error({ err }, 'outbox round failed');
      return { sent: 0, retried: 0, failed: 0 };
    }).finally(() => {
      this.running = undefined;
      if (!this.stopped) {
        this.timer = setTimeout(() => { this.tick(); }, this.pollMs);
        this.timer.unref();
      }
    });
  }

  private pollMs = 2_000;

  /** Polls every `pollMs` until stop(). */
  start(pollMs = 2_000): void {
    this.pollMs = pollMs;
    this.stopped = false;
    this.timer = setTimeout(() => { this.tick(); }, 0);
    this.timer.unref();
  }

  /** Stops polling and waits for the round in flight; the transport is closed. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    this.transport.close();
  }
}
