import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import type { InboundMailService } from './inbound.service.js';
import { MAX_MESSAGE_BYTES } from './inbound.service.js';

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
      maxClients: 200,
      socketTimeout: 60_000,
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

  private async receive(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    if (stream.sizeExceeded) throw smtpError(552, 'Message exceeds the size limit');
    const raw = Buffer.concat(chunks);
    const channelIds = [...(this.channels.get(session.id) ?? [])];
    // A new transaction on the same connection starts with its own recipients.
    this.channels.delete(session.id);
    const mailFrom = session.envelope.mailFrom;
    const recipients = session.envelope.rcptTo.map((r) => r.address);
    // A mail to two connected addresses has one Message-ID: it is kept once, for the first.
    const [channelId] = channelIds;
    if (channelId === undefined) throw smtpError(554, 'No valid recipients');
    // The connection, for the SPF check made while processing (C12); smtp-server types an absent HELO name as a string.
    const helo = typeof session.hostNameAppearsAs === 'string' && session.hostNameAppearsAs !== '' ? session.hostNameAppearsAs : null;
    const client = { ip: session.remoteAddress, helo };
    const { id, duplicate } = await this.inbound.store({ source: 'smtp', channelId, envelopeFrom: mailFrom === false ? '' : mailFrom.address, recipients, raw, client });
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
