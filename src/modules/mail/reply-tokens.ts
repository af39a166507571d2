import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

const MAC_CHARS = 22;
const TOKEN = /^<?t([1-9][0-9]{0,9})\.([A-Za-z0-9_-]{12})\.([A-Za-z0-9_-]{22})@[^<>\s@]+>?$/;

/**
 * The Message-IDs of mail Portico sends in a thread carry the thread, signed: `t<thread>.<nonce>.
 * <mac>@domain`. A reply's In-Reply-To or References names one of them; only a valid signature
 * lets incoming mail join a thread, so a stranger cannot join someone's ticket by guessing a
 * number or forging headers (C6).
 */
export class ReplyTokens {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = Buffer.from(hkdfSync('sha256', secret, 'portico', 'reply tokens v1', 32));
  }

  private mac(threadId: number, nonce: string): string {
    return createHmac('sha256', this.key).update(`${threadId}.${nonce}`).digest('base64url').slice(0, MAC_CHARS);
  }

  /** A new Message-ID for a mail in this thread. */
  messageId(threadId: number, domain: string): string {
    const nonce = randomBytes(9).toString('base64url');
    return `<t${threadId}.${nonce}.${this.mac(threadId, nonce)}@${domain}>`;
  }

  /** The thread a Message-ID we issued names; undefined for any other, or a forged one. */
  threadOf(messageId: string): number | undefined {
    const match = TOKEN.exec(messageId.trim());
    if (match === null) return undefined;
    const [, id, nonce, mac] = match as unknown as [string, string, string, string];
    const threadId = Number(id);
    const expected = Buffer.from(this.mac(threadId, nonce));
    const given = Buffer.from(mac);
    return expected.length === given.length && timingSafeEqual(expected, given) ? threadId : undefined;
  }
}
