import PostalMime, { type Email } from 'postal-mime';
import { SMTPServer } from 'smtp-server';

/** A mail the sink accepted: the envelope, the raw bytes, and the message as postal-mime reads it. */
export interface Received {
  from: string;
  to: string[];
  raw: string;
  parsed: Email;
  header(name: string): string[];
}

interface Rule {
  /** Answers RCPT TO for this address with an SMTP error: 550 is for good, 451 for later. */
  code: number;
  message: string;
}

/**
 * A real SMTP server on loopback (the `smtp-server` package), for tests: plain SMTP, no AUTH,
 * no STARTTLS. It keeps every message it accepts; `stop()` and `start()` take it down and bring
 * it back on the same port; `reject()` makes it refuse a recipient.
 */
export class SmtpSink {
  readonly received: Received[] = [];
  private readonly rules = new Map<string, Rule>();
  private server: SMTPServer | undefined;
  port = 0;
  private waiters: { count: number; resolve: () => void }[] = [];

  async start(): Promise<this> {
    const server = new SMTPServer({
      disabledCommands: ['AUTH', 'STARTTLS'],
      logger: false,
      size: 10 * 1024 * 1024,
      onRcptTo: (address, _session, callback) => {
        const rule = this.rules.get(address.address.toLowerCase());
        if (rule === undefined) {
          callback();
          return;
        }
        callback(Object.assign(new Error(rule.message), { responseCode: rule.code }));
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          PostalMime.parse(raw).then((parsed) => {
            const envelopeFrom = session.envelope.mailFrom;
            this.received.push({
              from: envelopeFrom === false ? '' : envelopeFrom.address,
              to: session.envelope.rcptTo.map((r) => r.address),
              raw,
              parsed,
              header: (name) => parsed.headers.filter((h) => h.key === name.toLowerCase()).map((h) => h.value),
            });
            this.waiters = this.waiters.filter((w) => {
              if (this.received.length < w.count) return true;
              w.resolve();
              return false;
            });
            callback();
          }, (error: unknown) => {
            callback(error as Error);
          });
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.server.address();
    this.port = typeof address === 'object' && address !== null ? address.port : 0;
    this.server = server;
    return this;
  }

  /** Takes the server down: connections are refused until start() again, on the same port. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
    });
  }

  reject(address: string, code: number, message: string): void {
    this.rules.set(address.toLowerCase(), { code, message });
  }

  /** Resolves once `count` messages have arrived in all (an event, not a timer). */
  waitFor(count: number): Promise<void> {
    if (this.received.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }
}
