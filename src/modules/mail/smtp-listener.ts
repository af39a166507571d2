import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import type { InboundMailService } from './inbound.service.js';
import { MAX_MESSAGE_BYTES } from './inbound.service.js';

/** Connections at once, in all and from one client address. */
export const MAX_SESSIONS = 200;
export const MAX_SESSIONS_PER_ADDRESS = 10;
/** On shutdown, connections still open after this long are told 421 and closed. */
const CLOSE_GRACE_MS = 1_000;

/** An SMTP reply code on an error, which smtp-server sends to the client. */
function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

export interface ListenerLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * The built-in SMTP listener (C6, P2): the company's MX (or a forwarder) delivers here. Only
 * connected addresses are accepted (550 for any other, at RCPT TO, so nothing else is ever
 * stored); a message is kept raw and durably before the 250, so an accepted mail is never lost
 * (451 asks the sender to try again when it cannot be kept); then it is processed.
 */
export class SmtpListener {
  private server: SMTPServer | undefined;
  private readonly channels = new Map<string, Set<number>>();
  /** Processing started after a 250, so `stop()` can wait for it. */
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Open sessions by client address, so one address cannot take every connection. */
  private readonly perAddress = new Map<string, number>();
  private readonly counted = new Set<string>();

  constructor(
    private readonly inbound: InboundMailService,
    private readonly log: ListenerLog,
    private readonly options: { banner?: string; maxBytes?: number } = {},
  ) {}

  async start(port: number, host: string): Promise<number> {
    const server = new SMTPServer({
      banner: this.options.banner ?? 'Portico',
      disabledCommands: ['AUTH', 'STARTTLS'],
      authOptional: true,
      size: this.options.maxBytes ?? MAX_MESSAGE_BYTES,
      logger: false,
      // The client's name from reverse DNS is never used (SPF checks its address): no lookup to wait for.
      disableReverseLookup: true,
      maxClients: MAX_SESSIONS,
      socketTimeout: 60_000,
      // Shutting down: connections still open after the grace are told 421 (try later) and closed.
      closeTimeout: CLOSE_GRACE_MS,
      onConnect: (session, callback) => {
        const open = this.perAddress.get(session.remoteAddress) ?? 0;
        if (open >= MAX_SESSIONS_PER_ADDRESS) {
          callback(smtpError(421, 'Too many connections from your address; try again later'));
          return;
        }
        this.perAddress.set(session.remoteAddress, open + 1);
        this.counted.add(session.id);
        callback();
      },
      onRcptTo: (address, session, callback) => {
        this.inbound.channelFor(address.address).then((channel) => {
          if (channel === undefined) {
            callback(smtpError(550, 'No such recipient here'));
            return;
          }
          const set = this.channels.get(session.id) ?? new Set<number>();
          set.add(channel.id);
          this.channels.set(session.id, set);
          callback();
        }, (error: unknown) => {
          this.log.error({ err: error }, 'recipient lookup failed');
          callback(smtpError(451, 'Try again later'));
        });
      },
      onData: (stream, session, callback) => {
        this.receive(stream, session).then((message) => {
          callback(null, message);
        }, (error: unknown) => {
          callback(error instanceof Error && 'responseCode' in error ? error : smtpError(451, 'The message could not be kept; try again later'));
          if (!(error instanceof Error && 'responseCode' in error)) this.log.error({ err: error }, 'incoming mail could not be stored');
        });
      },
      onClose: (session) => {
        this.channels.delete(session.id);
        if (!this.counted.delete(session.id)) return;
        const open = (this.perAddress.get(session.remoteAddress) ?? 1) - 1;
        if (open <= 0) this.perAddress.delete(session.remoteAddress);
        else this.perAddress.set(session.remoteAddress, open);
      },
    });
    server.on('error', (error) => {
      this.log.warn({ err: error }, 'SMTP listener connection error');
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(port, host, () => {
        resolve();
      });
    });
    return (server.server.address() as AddressInfo).port;
  }

  /**
   * Spools the DATA stream straight to the file store: never held whole, and stopped at the size
   * limit (the rest is read and dropped, then 552), so any number of oversize mails at once cost
   * no memory.
   */
  private async receive(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<string> {
    const channelIds = [...(this.channels.get(session.id) ?? [])];
    // A new transaction on the same connection starts with its own recipients.
    this.channels.delete(session.id);
    const mailFrom = session.envelope.mailFrom;
    const recipients = session.envelope.rcptTo.map((r) => r.address);
    // A mail to two connected addresses has one Message-ID: it is kept once, for the first.
    const [channelId] = channelIds;
    if (channelId === undefined) {
      await drain(stream);
      throw smtpError(554, 'No valid recipients');
    }
    // The connection, for the SPF check made while processing (C12); smtp-server types an absent HELO name as a string.
    const helo = typeof session.hostNameAppearsAs === 'string' && session.hostNameAppearsAs !== '' ? session.hostNameAppearsAs : null;
    const client = { ip: session.remoteAddress, helo };
    let kept;
    try {
      kept = await this.inbound.store({ source: 'smtp', channelId, envelopeFrom: mailFrom === false ? '' : mailFrom.address, recipients, raw: stream, client }, this.options.maxBytes ?? MAX_MESSAGE_BYTES);
    } catch (error) {
      await drain(stream);
      if ((error as { code?: unknown }).code === 'FST_REQ_FILE_TOO_LARGE' || stream.sizeExceeded) throw smtpError(552, 'Message exceeds the size limit');
      throw error;
    }
    const { id, duplicate } = kept;
    if (!duplicate) this.kick(id);
    return duplicate ? 'Already received' : `Queued as ${id}`;
  }

  /** Processes a stored mail now; a failure leaves it `received`, for the worker to retry. */
  private kick(id: number): void {
    const work = this.inbound.process(id).catch((error: unknown) => {
      this.log.error({ err: error, inboundId: id }, 'incoming mail processing failed; it will be retried');
    });
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  /** Resolves when every mail accepted so far has been processed (or has failed to be). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
    });
    await Promise.allSettled([...this.inFlight]);
  }
}

/** Reads what is left of a DATA stream and drops it: smtp-server answers only once the client's message has ended. */
async function drain(stream: SMTPServerDataStream): Promise<void> {
  if (stream.readableEnded) return;
  await new Promise<void>((resolve) => {
    stream.on('end', resolve);
    stream.on('error', () => {
      resolve();
    });
    stream.resume();
  });
}
