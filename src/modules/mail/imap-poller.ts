import { ImapFlow } from 'imapflow';
import type { ArrivedMail } from './inbound.service.js';
import { MAX_MESSAGE_BYTES } from './inbound.service.js';

/** Where an email channel fetches its mail (the password is kept apart, sealed). */
export interface ImapSettings {
  host: string;
  port: number;
  /** TLS from the first byte (993); otherwise STARTTLS when the server offers it. */
  secure: boolean;
  user: string;
  mailbox: string;
}

/** At most this many messages are fetched from one mailbox in one round. */
const BATCH = 200;

/**
 * One round at an IMAP mailbox (C6): every unseen message is fetched, kept through `store`
 * (raw and durable, once per Message-ID), and only then flagged \Seen, so a crash in between
 * fetches it again and the Message-ID keeps it from being stored twice.
 */
export async function pollMailbox(
  settings: ImapSettings,
  password: string,
  channelId: number,
  store: (mail: ArrivedMail) => Promise<{ id: number; duplicate: boolean }>,
): Promise<{ fetched: number; stored: number[] }> {
  const client = new ImapFlow({
    host: settings.host,
    port: settings.port,
    secure: settings.secure,
    auth: { user: settings.user, pass: password },
    logger: false,
    connectionTimeout: 20_000,
    greetingTimeout: 20_000,
    socketTimeout: 120_000,
    tls: { rejectUnauthorized: true, minVersion: 'TLSv1.2' },
  });
  client.on('error', () => {
    // A dropped connection surfaces as the failed command below.
  });
  await client.connect();
  const stored: number[] = [];
  let fetched = 0;
  try {
    const lock = await client.getMailboxLock(settings.mailbox);
    try {
      const uids = ((await client.search({ seen: false }, { uid: true })) || []).slice(0, BATCH);
      for (const uid of uids) {
        const message = await client.fetchOne(String(uid), { source: true, envelope: true, size: true }, { uid: true });
        if (message === false || message.source === undefined) continue;
        fetched += 1;
        if ((message.size ?? message.source.length) > MAX_MESSAGE_BYTES) {
          // Too large to keep (the SMTP listener refuses the same with 552): left read, not fetched again.
          await client.messageFlagsAdd(String(uid), ['\\Seen'], { uid: true });
          continue;
        }
        const to = [...(message.envelope?.to ?? []), ...(message.envelope?.cc ?? [])].map((a) => a.address ?? '').filter((a) => a !== '');
        const result = await store({ source: 'imap', channelId, envelopeFrom: message.envelope?.from?.[0]?.address ?? null, recipients: to, raw: message.source });
        if (!result.duplicate) stored.push(result.id);
        await client.messageFlagsAdd(String(uid), ['\\Seen'], { uid: true });
      }
    } finally {
      lock.release();
    }
  } finally {
    await client.logout().catch(() => undefined);
  }
  return { fetched, stored };
}
