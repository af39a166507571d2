import type { Deps } from '../../deps.js';
import type { InboxesService } from '../conversations/conversations.service.js';
import { pollMailbox, type ImapSettings } from './imap-poller.js';
import type { InboundMailService } from './inbound.service.js';
import type { ListenerLog } from './smtp-listener.js';

/**
 * Incoming mail in the background (C6): every round, mail received but not yet processed (a
 * crash after the 250, a database hiccup) is processed again, and every email channel with an
 * IMAP mailbox is polled. Rounds never overlap; `stop()` waits for the one in flight.
 */
export class InboundWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly deps: Deps,
    private readonly inbound: InboundMailService,
    private readonly inboxes: InboxesService,
    private readonly log: ListenerLog,
  ) {}

  /** One round: pending mail, then each IMAP mailbox. Returns what it did, for tests. */
  async runOnce(): Promise<{ processed: number; polled: number; fetched: number }> {
    let processed = 0;
    for (const id of await this.inbound.pending(100)) {
      if (this.stopped) break;
      try {
        await this.inbound.process(id);
        processed += 1;
      } catch (err) {
        this.log.error({ err, inboundId: id }, 'incoming mail processing failed; it will be retried');
      }
    }
    let polled = 0;
    let fetched = 0;
    const channels = await this.deps.db.selectFrom('channels').selectAll().where('type', '=', 'email').where('imap_settings', 'is not', null).orderBy('id').execute();
    for (const channel of channels) {
      if (this.stopped) break;
      try {
        const password = this.inboxes.imapPassword(channel);
        if (password === null || channel.imap_settings === null) continue;
        const result = await pollMailbox(JSON.parse(channel.imap_settings) as ImapSettings, password, channel.id, (mail) => this.inbound.store(mail));
        polled += 1;
        fetched += result.fetched;
        for (const id of result.stored) {
          try {
            await this.inbound.process(id);
          } catch (err) {
            this.log.error({ err, inboundId: id }, 'incoming mail processing failed; it will be retried');
          }
        }
      } catch (err) {
        this.log.warn({ err, channelId: channel.id }, 'IMAP mailbox could not be read; trying again next round');
      }
    }
    return { processed, polled, fetched };
  }

  private tick(): void {
    this.running ??= this.runOnce().then(() => undefined, (err: unknown) => {
      this.log.error({ err }, 'incoming mail round failed');
    }).finally(() => {
      this.running = undefined;
      if (!this.stopped) {
        this.timer = setTimeout(() => {
          this.tick();
        }, this.pollMs);
        this.timer.unref();
      }
    });
  }

  private pollMs = 60_000;

  start(pollMs = 60_000): void {
    this.pollMs = pollMs;
    this.stopped = false;
    this.timer = setTimeout(() => {
      this.tick();
    }, 0);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
