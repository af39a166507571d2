import { portalText } from '../i18n/admin-text.js';
import type { Tx } from '../../db/database.js';
import type { Row } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import type { TranslationsService } from '../i18n/translations.service.js';
import { isLanguage } from '../i18n/catalogue.js';
import { portalUrl } from '../members/account.service.js';
import type { PortalThemes } from '../portal/portal-themes.js';
import type { EmailContent } from '../portal/theme.js';
import { isMailAddress, type OutboxService } from './outbox.service.js';
import type { ReplyTokens } from './reply-tokens.js';

/**
 * The customer hears of a staff reply by email (C6): the message, a link to the ticket on the
 * portal, and a signed Message-ID, so answering the mail lands in the same thread. Written in the
 * reply's own transaction: the mail exists exactly when the reply does.
 */
export class ReplyNotifications {
  constructor(
    private readonly deps: Deps,
    private readonly outbox: OutboxService,
    private readonly tokens: ReplyTokens,
    private readonly translations: TranslationsService,
    private readonly themes: PortalThemes,
  ) {}

  async staffReplied(tx: Tx, thread: Row<'threads'>, message: Row<'messages'>): Promise<void> {
    if (thread.contact_id === null || message.kind !== 'message' || message.author_type !== 'staff') return;
    const contact = await tx.selectFrom('contacts').select(['email', 'first_name', 'last_name']).where('id', '=', thread.contact_id).executeTakeFirst();
    if (contact === undefined || !isMailAddress(contact.email)) return;
    const staff = message.staff_user_id === null ? undefined : await tx.selectFrom('staff_users').select('name').where('id', '=', message.staff_user_id).executeTakeFirst();
    // The portal that answers for this inbox, or else the first one enabled: its language, look and link.
    const portal = await tx.selectFrom('portals').selectAll().where('enabled', '=', 1)
      .orderBy((eb) => eb.case().when('default_inbox_id', '=', thread.inbox_id).then(0).else(1).end()).orderBy('id').executeTakeFirst();
    // Threaded in the customer's mail program: after their latest mail, with our earlier ones.
    const theirs = await tx.selectFrom('inbound_mail').select('message_id').where('thread_id', '=', thread.id).where('message_id', 'is not', null).orderBy('id', 'desc').executeTakeFirst();
    const ours = await tx.selectFrom('outbox').select('message_id').where('kind', '=', 'thread.reply').where('message_id', 'like', `<t${thread.id}.%`).orderBy('id', 'desc').limit(5).execute();
    const inReplyTo = theirs?.message_id ?? ours[0]?.message_id ?? null;
    const references = [...new Set([...(theirs?.message_id === undefined || theirs.message_id === null ? [] : [theirs.message_id]), ...ours.map((o) => o.message_id).reverse()])];
    const subject = `Re: ${thread.subject.replace(/^(\s*(re|aw|odp|sv)\s*:\s*)+/i, '')}`;
    const name = [contact.first_name, contact.last_name].filter((p) => p !== null && p !== '').join(' ');
    const domain = this.deps.config.mailFrom.address.split('@')[1] ?? 'portico.invalid';
    const paragraphs = message.body_text.split(/\n{2,}/).map((p) => p.trim()).filter((p) => p !== '');
    let text: string;
    let html: string | null = null;
    if (portal === undefined) {
      text = `${paragraphs.join('\n\n')}\n\n--\nReply to this email to answer.\n`;
    } else {
      const language = isLanguage(portal.language) ? portal.language : 'en';
      const tr = await this.translations.translator(portal, language, tx);
      const content: EmailContent = {
        kind: 'thread.reply',
        subject,
        heading: tr.t('email.reply.heading', { name: staff?.name ?? portalText(portal, tr.language).title }),
        paragraphs,
        action: thread.ticket_id === null ? null : { url: portalUrl(this.deps, portal, `/${thread.ticket_id}`), label: tr.t('email.reply.action') },
        after: [tr.t('email.reply.after')],
      };
      // The portal's own email template, or the default one if it fails on this mail (logged).
      ({ text, html } = await this.themes.renderEmail(portal, content, tr, tx));
    }
    await this.outbox.enqueue(tx, {
      kind: 'thread.reply', portalId: portal?.id ?? null, to: { address: contact.email, name: name === '' ? null : name },
      subject, text, html, messageId: this.tokens.messageId(thread.id, domain), inReplyTo, references,
      replyTo: await this.replyAddress(tx, thread),
    });
  }

  /**
   * Where the customer's answer should go: the address the thread came in on, or else the
   * inbox's first email address, named as the inbox. None (a thread of an inbox without email):
   * answers go to the sender, MAIL_FROM.
   */
  private async replyAddress(tx: Tx, thread: Row<'threads'>): Promise<{ address: string; name: string } | null> {
    const channel = await tx.selectFrom('channels as c').innerJoin('inboxes as i', 'i.id', 'c.inbox_id').select(['c.address', 'i.name'])
      .where('c.inbox_id', '=', thread.inbox_id).where('c.type', '=', 'email').where('c.address', 'is not', null)
      .orderBy((eb) => eb.case().when('c.id', '=', thread.channel_id ?? 0).then(0).else(1).end()).orderBy('c.id').executeTakeFirst();
    return channel?.address === undefined || channel.address === null ? null : { address: channel.address, name: channel.name };
  }
}
