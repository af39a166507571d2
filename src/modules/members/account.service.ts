import type { Conn } from '../../db/database.js';
import type { SignInMethod, TokenPurpose } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { AppError, errors } from '../../errors.js';
import { hashPassword, verifyPassword } from '../../security/secrets.js';
import { passwordProblem } from '../../security/password-policy.js';
import { emailKey } from '../../util/email.js';
import { readJsonArray } from '../../util/json.js';
import { portalText } from '../i18n/admin-text.js';
import type { Translator } from '../i18n/translator.js';
import type { OutboxService } from '../mail/outbox.service.js';
import type { PortalRow } from '../portal/portals.service.js';
import type { EmailContent } from '../portal/theme.js';
import type { PortalThemes } from '../portal/portal-themes.js';
import type { MemberAuthService, SessionMeta } from './member-auth.service.js';
import type { ContactsService } from '../contacts/contacts.service.js';
import { safeEqual, sha256Hex } from '../../security/secrets.js';
import { isMailAddress } from '../mail/outbox.service.js';
import { consumeToken, issueToken, peekToken, type TokenRow } from './one-time-tokens.js';
import { mayUsePortal, registrationOpen } from './access-lists.js';

/** A new session; or 'denied' when the portal's contact lists leave the member out (P10). */
export type LinkOutcome = { token: string; expiresAt: number } | 'denied' | undefined;

/** Mails of one kind to one address in an hour, at most; more requests are answered the same and send nothing. */
export const MAIL_PER_RECIPIENT_PER_HOUR = 3;

/** The portal's own address for links in emails: its host, with the scheme (and port) of the app. */
export function portalUrl(deps: Deps, portal: PortalRow, path: string): string {
  const app = deps.config.publicAppUrl;
  return `${app.protocol}//${portal.domain ?? app.hostname}${app.port === '' ? '' : `:${app.port}`}/${portal.slug}${path}`;
}

/** A new password the policy refuses, as a 400 whose page says why in the visitor's language. */
export function checkNewPassword(password: string): void {
  const problem = passwordProblem(password);
  if (problem === undefined) return;
  const [message, key] = problem === 'too_short' ? ['Enter at least 8 characters.', 'password.tooShort']
    : problem === 'too_long' ? ['Enter at most 256 characters.', 'password.tooLong']
    : ['This is one of the most common passwords: choose another.', 'password.common'];
  throw errors.validation([{ path: '/body/password', message }], 'The password cannot be used.').forPage(key);
}

export function signInMethods(portal: PortalRow): { password: boolean; magic_link: boolean; sso: boolean } {
  const methods = readJsonArray<string>(portal.sign_in_methods);
  return { password: methods.includes('password'), magic_link: methods.includes('magic_link'), sso: methods.includes('sso') };
}

/**
 * What members do with their own account by email (P11, X2): reset a forgotten password, sign
 * in by a one-time link, change their password. Every request for a link answers the same
 * whether the address has an account or not; links are single use, expire, and only the newest
 * of each kind works.
 */
export class MemberAccountService {
  constructor(
    private readonly deps: Deps,
    private readonly outbox: OutboxService,
    private readonly themes: PortalThemes,
    private readonly sessions: MemberAuthService,
    private readonly contacts: ContactsService,
  ) {}

  /** The member with this email on this portal who may receive links: not disabled. */
  private findMember(db: Conn, portal: PortalRow, email: string) {
    return db.selectFrom('members as m').innerJoin('contacts as c', 'c.id', 'm.contact_id')
      .select(['m.id', 'c.email', 'c.first_name', 'c.last_name'])
      .where('m.portal_id', '=', portal.id).where('c.email_key', '=', emailKey(email)).where('m.disabled_at', 'is', null)
      .executeTakeFirst();
  }

  /** Whether this address has had its fill of this kind of mail in the last hour. */
  private async recipientSaturated(db: Conn, address: string, kind: string): Promise<boolean> {
    const since = this.deps.clock.now() - 3_600_000;
    const row = await db.selectFrom('outbox').select((eb) => eb.fn.countAll<number>().as('n'))
      .where('to_address', '=', address).where('created_at', '>', since).where('kind', '=', kind).executeTakeFirstOrThrow();
    return row.n >= MAIL_PER_RECIPIENT_PER_HOUR;
  }

  /**
   * Mails a one-time link of `purpose` to the member with `email`, if there is one; nothing
   * tells the caller whether there was. Returns whether a mail was written (for tests and logs).
   */
  private async mailLink(portal: PortalRow, email: string, purpose: TokenPurpose, tr: Translator, compose: (url: string) => EmailContent): Promise<boolean> {
    const kind = `member.${purpose}`;
    return this.deps.db.transaction().execute(async (tx) => {
      const member = await this.findMember(tx, portal, email);
      if (member === undefined || (await this.recipientSaturated(tx, member.email, kind))) return false;
      await this.mailToken(tx, portal, member, purpose, tr, compose);
      return true;
    });
  }

  /** Issues a token of `purpose` for the member and writes the mail carrying its link, in `tx`. */
  private async mailToken(tx: Conn, portal: PortalRow, member: { id: number; email: string; first_name: string | null; last_name: string | null }, purpose: TokenPurpose, tr: Translator, compose: (url: string) => EmailContent, payload: string | null = null): Promise<void> {
    const token = await issueToken(tx, purpose, portal.id, member.id, this.deps.clock.now(), payload);
    const path = { reset: '/password-reset/', magic: '/magic-link/', verify: '/verify/', invite: '/invitation/', email: '/email-change/' }[purpose] + token;
    await this.mail(tx, portal, member, `member.${purpose}`, tr, compose(portalUrl(this.deps, portal, path)));
  }

  private async mail(tx: Conn, portal: PortalRow, member: { email: string; first_name: string | null; last_name: string | null }, kind: string, tr: Translator, content: EmailContent): Promise<void> {
    // The portal's own email template, or the default one if it fails on this mail (logged).
    const { html, text } = await this.themes.renderEmail(portal, { ...content, kind }, tr, tx);
    const name = [member.first_name, member.last_name].filter((p) => p !== null && p !== '').join(' ');
    await this.outbox.enqueue(tx, { kind, portalId: portal.id, to: { address: member.email, name: name === '' ? null : name }, subject: content.subject, text, html });
  }

  private verifyMail(portal: PortalRow, tr: Translator): (url: string) => EmailContent {
    const values = { portal: portalText(portal, tr.language).name };
    return (url) => ({
      subject: tr.t('email.verify.subject', values),
      heading: tr.t('email.verify.heading'),
      paragraphs: [tr.t('email.verify.intro', values), tr.t('email.verify.sameBrowser')],
      action: { url, label: tr.t('email.verify.action') },
      after: [tr.t('email.verify.ignore')],
    });
  }

  /**
   * P9 P14 P29: a visitor registers with name, email, password and their answer to the consent
   * notice. The member exists unverified, the consent (this wording, the answer, the time) is
   * recorded, and a link to confirm the address is mailed. An address that already has a sign-in
   * here gets a notice by mail instead; the visitor sees the same page either way.
   */
  async register(portal: PortalRow, input: { name: string; email: string; password: string; consent: boolean; ip: string; browser: string }, tr: Translator): Promise<void> {
    if (!(await registrationOpen(this.deps.db, portal))) throw errors.routeNotFound();
    const name = input.name.trim();
    const email = input.email.trim();
    const fieldErrors: { path: string; message: string; key: string }[] = [];
    // eslint-disable-next-line no-control-regex -- control characters are what this refuses
    if (name === '' || name.length > 200 || /[\u0000-\u001f\u007f]/.test(name)) fieldErrors.push({ path: '/body/name', message: 'Enter your name, on one line of at most 200 characters.', key: 'register.nameMissing' });
    if (!isMailAddress(email)) fieldErrors.push({ path: '/body/email', message: 'Enter an email address, like name@example.com.', key: 'register.emailInvalid' });
    if (!input.consent) fieldErrors.push({ path: '/body/consent', message: 'Agree to the terms to register.', key: 'register.consentMissing' });
    const [first] = fieldErrors;
    if (first !== undefined) throw errors.validation(fieldErrors.map(({ path, message }) => ({ path, message })), 'The registration is not complete.').forPage(first.key);
    checkNewPassword(input.password);
    const passwordHash = await hashPassword(input.password);
    // What this visitor read and agreed to: the notice in their language.
    const text = portalText(portal, tr.language);
    const notice = text.consentText ?? '';
    const label = text.consentLabel ?? '';
    const attempt = () => this.deps.db.transaction().execute(async (tx) => {
      const now = this.deps.clock.now();
      const contact = await tx.selectFrom('contacts').select(['id', 'email', 'first_name', 'last_name']).where('email_key', '=', emailKey(email)).executeTakeFirst()
        ?? await this.contacts.createIn(tx, { email, firstName: name });
      const existing = await tx.selectFrom('members').select(['id', 'verified_at']).where('portal_id', '=', portal.id).where('contact_id', '=', contact.id).executeTakeFirst();
      if (existing?.verified_at !== undefined && existing.verified_at !== null) {
        // Someone has this address already: tell its owner, not the visitor.
        if (await this.recipientSaturated(tx, contact.email, 'member.exists')) return;
        const values = { portal: portalText(portal, tr.language).name };
        await this.mail(tx, portal, contact, 'member.exists', tr, {
          subject: tr.t('email.exists.subject', values), heading: tr.t('email.exists.heading'), paragraphs: [tr.t('email.exists.intro', values)],
          action: { url: portalUrl(this.deps, portal, '/sign-in'), label: tr.t('email.exists.action') }, after: [tr.t('email.exists.after')],
        });
        return;
      }
      // New, or registered before without confirming: the newest registration counts.
      const memberId = existing === undefined
        ? (await tx.insertInto('members').values({ portal_id: portal.id, contact_id: contact.id, password_hash: passwordHash, created_at: now, updated_at: now }).returning('id').executeTakeFirstOrThrow()).id
        : (await tx.updateTable('members').set({ password_hash: passwordHash, updated_at: now }).where('id', '=', existing.id).returning('id').executeTakeFirstOrThrow()).id;
      await tx.insertInto('consents').values({ portal_id: portal.id, member_id: memberId, version: sha256Hex(`${notice}\n${label}`), notice, label, accepted: 1, ip: input.ip, created_at: now }).execute();
      if (await this.recipientSaturated(tx, contact.email, 'member.verify')) return;
      await this.mailToken(tx, portal, { ...contact, id: memberId }, 'verify', tr, this.verifyMail(portal, tr), sha256Hex(input.browser));
    });
    try {
      await attempt();
    } catch (error) {
      // Two registrations of one new address at once: the loser finds the winner's contact.
      if (error instanceof AppError && error.status === 409) await attempt();
      else throw error;
    }
  }

  /**
   * P10: invites a member made for a contact on one of the portal's lists: a link to set a
   * password, valid seven days, in the portal's primary language. Written in `tx`.
   */
  async inviteIn(tx: Conn, portal: PortalRow, member: { id: number; email: string; first_name: string | null; last_name: string | null }, tr: Translator): Promise<void> {
    const values = { portal: portalText(portal, tr.language).name };
    await this.mailToken(tx, portal, member, 'invite', tr, (url) => ({
      subject: tr.t('email.invite.subject', values),
      heading: tr.t('email.invite.heading', values),
      paragraphs: [tr.t('email.invite.intro', values)],
      action: { url, label: tr.t('email.invite.action') },
      after: [tr.t('email.invite.expiry')],
    }));
  }

  /** A registered member who signs in before confirming: a new link (within the limits). */
  async resendVerification(portal: PortalRow, memberId: number, tr: Translator, browser: string): Promise<string> {
    return this.deps.db.transaction().execute(async (tx) => {
      const member = await tx.selectFrom('members as m').innerJoin('contacts as c', 'c.id', 'm.contact_id')
        .select(['m.id', 'c.email', 'c.first_name', 'c.last_name']).where('m.id', '=', memberId).executeTakeFirstOrThrow();
      if (!(await this.recipientSaturated(tx, member.email, 'member.verify'))) await this.mailToken(tx, portal, member, 'verify', tr, this.verifyMail(portal, tr), sha256Hex(browser));
      return member.email;
    });
  }

  /**
   * Follows the registration link: the address is confirmed. In the browser that registered
   * (its cookie matches the link), the member is signed in. Anywhere else the password chosen at
   * registration is dropped and the one who holds the mailbox chooses a new one: whoever
   * registered someone else's address never learns a password that opens it.
   */
  async verify(portal: PortalRow, token: string, browser: string | undefined, meta: SessionMeta): Promise<LinkOutcome | { choosePassword: string }> {
    return this.unusable(portal, 'verify', meta, this.deps.db.transaction().execute(async (tx) => {
      const now = this.deps.clock.now();
      const row = await consumeToken(tx, 'verify', portal.id, token, now);
      if (row === undefined) return undefined;
      const member = await tx.updateTable('members').set({ verified_at: now, updated_at: now })
        .where('id', '=', row.member_id).where('disabled_at', 'is', null).returning('id').executeTakeFirst();
      if (member === undefined) return undefined;
      const sameBrowser = row.payload !== null && browser !== undefined && safeEqual(row.payload, sha256Hex(browser));
      if (sameBrowser) return this.sessionIfAllowed(tx, portal, row.member_id, meta, 'verify');
      await tx.updateTable('members').set({ password_hash: null }).where('id', '=', row.member_id).execute();
      await tx.deleteFrom('member_sessions').where('member_id', '=', row.member_id).execute();
      return { choosePassword: await issueToken(tx, 'reset', portal.id, row.member_id, now) };
    }));
  }

  /** P11: a link to choose a new password, valid one hour. */
  requestPasswordReset(portal: PortalRow, email: string, tr: Translator): Promise<boolean> {
    const values = { portal: portalText(portal, tr.language).name };
    return this.mailLink(portal, email, 'reset', tr, (url) => ({
      subject: tr.t('email.reset.subject', values),
      heading: tr.t('email.reset.heading'),
      paragraphs: [tr.t('email.reset.intro', values)],
      action: { url, label: tr.t('email.reset.action') },
      after: [tr.t('email.reset.ignore')],
    }));
  }

  /** X2: a link that signs the member in, valid 15 minutes. */
  requestMagicLink(portal: PortalRow, email: string, tr: Translator): Promise<boolean> {
    const values = { portal: portalText(portal, tr.language).name };
    return this.mailLink(portal, email, 'magic', tr, (url) => ({
      subject: tr.t('email.magic.subject', values),
      heading: tr.t('email.magic.heading', values),
      paragraphs: [tr.t('email.magic.intro')],
      action: { url, label: tr.t('email.magic.action') },
      after: [tr.t('email.magic.ignore')],
    }));
  }

  /** Whether a reset link can still be used (the set-password page shows only then). */
  async linkUsable(portal: PortalRow, purpose: TokenPurpose, token: string): Promise<boolean> {
    return (await this.peekLink(portal, purpose, token)) !== undefined;
  }

  /** An emailed link that can still be used, without using it (a page shown before the visitor confirms). */
  peekLink(portal: PortalRow, purpose: TokenPurpose, token: string): Promise<TokenRow | undefined> {
    return peekToken(this.deps.db, purpose, portal.id, token, this.deps.clock.now());
  }

  /**
   * Sets a new password from a reset link: the link is used up, every session of the member
   * ends, and this browser gets a new one. Undefined when the link cannot be used.
   */
  resetPassword(portal: PortalRow, token: string, password: string, meta: SessionMeta): Promise<LinkOutcome> {
    return this.setPasswordByLink(portal, 'reset', token, password, meta);
  }

  /** P10: an invited contact sets a password from the emailed link, which confirms the address. */
  acceptInvitation(portal: PortalRow, token: string, password: string, meta: SessionMeta): Promise<LinkOutcome> {
    return this.setPasswordByLink(portal, 'invite', token, password, meta);
  }

  private async setPasswordByLink(portal: PortalRow, purpose: 'reset' | 'invite', token: string, password: string, meta: SessionMeta): Promise<LinkOutcome> {
    checkNewPassword(password);
    const passwordHash = await hashPassword(password);
    const method = purpose === 'reset' ? 'reset' : 'invitation';
    return this.unusable(portal, method, meta, this.deps.db.transaction().execute(async (tx) => {
      const row = await consumeToken(tx, purpose, portal.id, token, this.deps.clock.now());
      if (row === undefined) return undefined;
      await this.setPassword(tx, row.member_id, passwordHash);
      return this.sessionIfAllowed(tx, portal, row.member_id, meta, method);
    }));
  }

  /**
   * A session for a member who proved the address, unless the portal's lists leave them out;
   * either way entered in the sign-in log, in the link's transaction.
   */
  private async sessionIfAllowed(tx: Conn, portal: PortalRow, memberId: number, meta: SessionMeta, method: SignInMethod): Promise<LinkOutcome> {
    const entry = { portalId: portal.id, method, memberId, ip: meta.ip, userAgent: meta.userAgent ?? null };
    if (!(await mayUsePortal(tx, portal.id, memberId))) {
      await this.sessions.log.record({ ...entry, outcome: 'denied', reason: 'not_on_access_lists' }, tx);
      return 'denied';
    }
    const session = await this.sessions.startSession(tx, portal.id, memberId, meta);
    await this.sessions.log.record({ ...entry, outcome: 'signed_in', reason: 'signed_in' }, tx);
    return session;
  }

  /** A link that could not be used, entered in the sign-in log (whose it was is unknown). */
  private async unusable<T>(portal: PortalRow, method: SignInMethod, meta: SessionMeta, outcome: Promise<T | undefined>): Promise<T | undefined> {
    const result = await outcome;
    if (result === undefined) await this.sessions.log.record({ portalId: portal.id, method, outcome: 'refused', reason: 'link_unusable', ip: meta.ip, userAgent: meta.userAgent ?? null });
    return result;
  }

  /** X2: signs in by a magic link, used up at once. Undefined when the link cannot be used. */
  async signInWithLink(portal: PortalRow, token: string, meta: SessionMeta): Promise<LinkOutcome> {
    return this.unusable(portal, 'magic_link', meta, this.deps.db.transaction().execute(async (tx) => {
      const row = await consumeToken(tx, 'magic', portal.id, token, this.deps.clock.now());
      if (row === undefined) return undefined;
      const member = await tx.selectFrom('members').select(['disabled_at', 'verified_at']).where('id', '=', row.member_id).executeTakeFirst();
      if (member === undefined || member.disabled_at !== null) return undefined;
      // The link came to the address: it is confirmed now, if it was not.
      if (member.verified_at === null) await tx.updateTable('members').set({ verified_at: this.deps.clock.now() }).where('id', '=', row.member_id).execute();
      return this.sessionIfAllowed(tx, portal, row.member_id, meta, 'magic_link');
    }));
  }

  /**
   * P11: a signed-in member asks to change their email address, proving their password. The new
   * address gets a link (24 hours); nothing changes until it is followed. An address another
   * contact has gets no mail, and the member is told the same as for any other.
   */
  async requestEmailChange(portal: PortalRow, memberId: number, current: string, newEmail: string, tr: Translator): Promise<void> {
    const member = await this.deps.db.selectFrom('members as m').innerJoin('contacts as c', 'c.id', 'm.contact_id')
      .select(['m.id', 'm.password_hash', 'c.email', 'c.first_name', 'c.last_name']).where('m.id', '=', memberId).executeTakeFirstOrThrow();
    if (member.password_hash === null || !(await verifyPassword(member.password_hash, current))) {
      throw new AppError(400, 'WRONG_PASSWORD', 'The current password is wrong.', [{ path: '/body/current', message: 'This is not your current password.' }]).forPage('password.wrongCurrent');
    }
    const email = newEmail.trim();
    if (!isMailAddress(email)) throw errors.validation([{ path: '/body/email', message: 'Enter an email address, like name@example.com.' }]).forPage('register.emailInvalid');
    if (emailKey(email) === emailKey(member.email)) throw errors.validation([{ path: '/body/email', message: 'This is your current address already: enter a new one.' }]).forPage('emailChange.same');
    await this.deps.db.transaction().execute(async (tx) => {
      const taken = await tx.selectFrom('contacts').select('id').where('email_key', '=', emailKey(email)).executeTakeFirst();
      if (taken !== undefined || (await this.recipientSaturated(tx, email, 'member.email'))) return;
      const values = { portal: portalText(portal, tr.language).name };
      await this.mailToken(tx, portal, { ...member, email }, 'email', tr, (url) => ({
        subject: tr.t('email.emailChange.subject', values),
        heading: tr.t('email.emailChange.heading'),
        paragraphs: [tr.t('email.emailChange.intro', values)],
        action: { url, label: tr.t('email.emailChange.action') },
        after: [tr.t('email.emailChange.ignore')],
      }), email);
    });
  }

  /**
   * Follows an email change link: the contact's address becomes the new one (if nobody took it
   * meanwhile) and the old address is told. Undefined when the link cannot be used.
   */
  async confirmEmailChange(portal: PortalRow, token: string, tr: Translator): Promise<string | undefined> {
    const attempt = this.deps.db.transaction().execute(async (tx) => {
      const row = await consumeToken(tx, 'email', portal.id, token, this.deps.clock.now());
      if (row?.payload === undefined || row.payload === null) return undefined;
      const member = await tx.selectFrom('members as m').innerJoin('contacts as c', 'c.id', 'm.contact_id')
        .select(['m.contact_id', 'm.disabled_at', 'c.email', 'c.first_name', 'c.last_name']).where('m.id', '=', row.member_id).executeTakeFirst();
      if (member === undefined || member.disabled_at !== null) return undefined;
      await this.contacts.updateIn(tx, member.contact_id, { email: row.payload });
      const values = { portal: portalText(portal, tr.language).name, email: row.payload };
      await this.mail(tx, portal, member, 'member.email-changed', tr, {
        subject: tr.t('email.emailChanged.subject', values), heading: tr.t('email.emailChanged.heading'), paragraphs: [tr.t('email.emailChanged.intro', values)],
      });
      return row.payload;
    });
    try {
      return await attempt;
    } catch (error) {
      // Taken by another contact since the link was sent: nothing changed.
      if (error instanceof AppError && error.status === 409) return undefined;
      throw error;
    }
  }

  /** P11: a signed-in member changes their password, proving the current one; their other sessions end. */
  async changePassword(memberId: number, keepSession: string, current: string, password: string): Promise<void> {
    const member = await this.deps.db.selectFrom('members').select('password_hash').where('id', '=', memberId).executeTakeFirstOrThrow();
    if (member.password_hash === null || !(await verifyPassword(member.password_hash, current))) {
      throw new AppError(400, 'WRONG_PASSWORD', 'The current password is wrong.', [{ path: '/body/current', message: 'This is not your current password.' }]).forPage('password.wrongCurrent');
    }
    checkNewPassword(password);
    const passwordHash = await hashPassword(password);
    await this.deps.db.transaction().execute(async (tx) => {
      await this.setPassword(tx, memberId, passwordHash, keepSession);
    });
  }

  /** A new password: lockout cleared, reset links voided, and every session but `keep` ended. */
  private async setPassword(db: Conn, memberId: number, passwordHash: string, keep?: string): Promise<void> {
    const now = this.deps.clock.now();
    await db.updateTable('members').set({ password_hash: passwordHash, failed_sign_ins: 0, locked_until: null, updated_at: now }).where('id', '=', memberId).execute();
    // A reset link came to the address, and a signed-in member proved it long ago.
    await db.updateTable('members').set({ verified_at: now }).where('id', '=', memberId).where('verified_at', 'is', null).execute();
    await db.updateTable('one_time_tokens').set({ used_at: now }).where('member_id', '=', memberId).where('purpose', 'in', ['reset', 'magic']).where('used_at', 'is', null).execute();
    let sessions = db.deleteFrom('member_sessions').where('member_id', '=', memberId);
    if (keep !== undefined) sessions = sessions.where('id_hash', '!=', keep);
    await sessions.execute();
  }
}
