import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AppError, errors } from '../../errors.js';
import { readPortalCookie, clearPortalCookie, setPortalCookie } from './cookies.js';
import type { App } from '../../http/types.js';
import { perClient, perTarget, perUser } from '../../http/limits.js';
import { LIMITS } from '../../security/limits.js';
import { randomToken, safeEqual } from '../../security/secrets.js';
import type { Translator } from '../i18n/translator.js';
import type { LinkOutcome, MemberAccountService } from '../members/account.service.js';
import { signInMethods } from '../members/account.service.js';
import type { MemberPrincipal } from '../members/member-auth.service.js';
import type { PortalRow } from './portals.service.js';
import type { Page } from './theme.js';
import { consentHtml } from './consent.js';
import { portalText } from '../i18n/admin-text.js';
import { registrationOpen } from '../members/access-lists.js';

/** What the portal's page routes share with these (pages.routes.ts). */
export interface PageKit {
  portalOf(request: FastifyRequest, slug: string): PortalRow;
  signedIn(request: FastifyRequest, slug: string): { portal: PortalRow; member: MemberPrincipal };
  translator(request: FastifyRequest, portal: PortalRow): Promise<Translator>;
  render(request: FastifyRequest, page: Page, portal: PortalRow, tr: Translator, context: Record<string, unknown>): string;
  html(reply: FastifyReply, body: string, status?: number): FastifyReply;
  /** The double-submit CSRF token of forms shown before sign-in (set as a cookie when new). */
  formToken(request: FastifyRequest, reply: FastifyReply): string;
  /** Whether a pre-sign-in form's token matches its cookie. */
  formTokenOk(request: FastifyRequest, sent: string): boolean;
}

const SlugParams = Type.Object({ slug: Type.String({ minLength: 1, maxLength: 60 }) }, { additionalProperties: false });
const CsrfForm = Type.Object({ csrf: Type.String({ maxLength: 100 }) }, { additionalProperties: false });
const TokenParams = Type.Object({ slug: Type.String({ minLength: 1, maxLength: 60 }), token: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });
const EmailForm = Type.Object({ email: Type.String({ maxLength: 254 }), csrf: Type.String({ maxLength: 100 }) }, { additionalProperties: false });
const PasswordForm = Type.Object(
  { password: Type.String({ maxLength: 1024 }), csrf: Type.String({ maxLength: 100 }), email: Type.Optional(Type.String({ maxLength: 254 })) },
  { additionalProperties: false },
);
const RegisterForm = Type.Object(
  {
    name: Type.String({ maxLength: 1000 }),
    email: Type.String({ maxLength: 1000 }),
    password: Type.String({ maxLength: 1024 }),
    consent: Type.Optional(Type.String({ maxLength: 10 })),
    csrf: Type.String({ maxLength: 100 }),
  },
  { additionalProperties: false },
);
const ChangeEmailForm = Type.Object(
  { email: Type.String({ maxLength: 1000 }), current: Type.String({ maxLength: 1024 }), csrf: Type.String({ maxLength: 100 }) },
  { additionalProperties: false },
);
const ChangePasswordForm = Type.Object(
  { current: Type.String({ maxLength: 1024 }), password: Type.String({ maxLength: 1024 }), csrf: Type.String({ maxLength: 100 }) },
  { additionalProperties: false },
);

/** A new random proof of this browser, set as a cookie for a day; its hash goes into the link. */
export function browserProof(request: FastifyRequest, reply: FastifyReply): string {
  const proof = randomToken(32);
  setPortalCookie(reply, request, 'registration', proof, { maxAge: 24 * 3600 });
  return proof;
}

/**
 * Requests for emailed links are limited per target address and per client address (and mails
 * per recipient in the service), so the portal cannot be used to flood someone's inbox.
 */
const LINK_LIMIT = [perClient(LIMITS.linkClient, { soft: true }), perTarget(LIMITS.linkTarget)];
const REGISTER_LIMIT = [perClient(LIMITS.registerClient), perTarget(LIMITS.registerTarget)];
/** What the page of each emailed link's one button says. */
const CONFIRM_WORDS = {
  magic: { title: 'link.confirm.magic.title', message: 'link.confirm.magic.message', button: 'link.confirm.magic.button' },
  verify: { title: 'link.confirm.verify.title', message: 'link.confirm.verify.message', button: 'link.confirm.verify.button' },
  email: { title: 'link.confirm.email.title', message: 'link.confirm.email.message', button: 'link.confirm.email.button' },
} as const;

/** Pages reached by an emailed link's token. */
const TOKEN_LIMIT = [perClient(LIMITS.tokenPageClient)];
const ACCOUNT_LIMIT = [perUser(LIMITS.accountChange)];

/**
 * The portal's account pages (P11, X2): forgotten password, magic links, changing the password.
 * Pages carrying a token in their address are sent with `Referrer-Policy: no-referrer` (as every
 * portal page is) and never cached.
 */
export function accountRoutes(app: App, { account, kit }: { account: MemberAccountService; kit: PageKit }): void {
  /** After a link: a new session and the ticket list; the access denied page; or the link's own error page. */
  const finish = async (request: FastifyRequest, reply: FastifyReply, portal: PortalRow, outcome: LinkOutcome, again: string) => {
    if (outcome === undefined) return invalidLink(request, reply, portal, again);
    if (outcome === 'denied') {
      const tr = await kit.translator(request, portal);
      const heading = tr.t('access.denied.title');
      return kit.html(reply, kit.render(request, 'access-denied', portal, tr, { page_title: heading, heading, message: tr.t('access.denied.message') }), 403);
    }
    setPortalCookie(reply, request, 'member', outcome.token, { expires: new Date(outcome.expiresAt) });
    return reply.code(303).header('location', `/${portal.slug}`).header('cache-control', 'no-store').send();
  };
  const invalidLink = async (request: FastifyRequest, reply: FastifyReply, portal: PortalRow, again: string) => {
    const tr = await kit.translator(request, portal);
    const heading = tr.t('link.invalid.title');
    return kit.html(reply, kit.render(request, 'notice', portal, tr, {
      page_title: heading, heading, message: tr.t('link.invalid.message'), action: { url: `/${portal.slug}/${again}`, label: tr.t('link.invalid.action') },
    }), 400);
  };
  const checkEmail = async (request: FastifyRequest, reply: FastifyReply, portal: PortalRow, tr: Translator, email: string, messageKey: string) => {
    const heading = tr.t('reset.sent.title');
    return kit.html(reply, kit.render(request, 'notice', portal, tr, { page_title: heading, heading, message: tr.t(messageKey, { email }) }));
  };
  /** A refused new (or wrong current) password shows the form again, saying why. */
  const formAgain = async (error: unknown, request: FastifyRequest, reply: FastifyReply, portal: PortalRow, context: Record<string, unknown>) => {
    if (!(error instanceof AppError) || error.pageMessage === undefined || (error.code !== 'VALIDATION_FAILED' && error.code !== 'WRONG_PASSWORD')) throw error;
    const tr = await kit.translator(request, portal);
    const heading = tr.t(context.needs_current === true ? 'password.changeTitle' : 'password.title');
    return kit.html(reply, kit.render(request, 'password-set', portal, tr, { ...context, page_title: heading, heading, error: tr.t(error.pageMessage.key) }), 400);
  };
  const passwordMethod = (portal: PortalRow) => {
    if (!signInMethods(portal).password) throw errors.routeNotFound();
  };

  // Forgotten password: ask for a link.
  app.get('/:slug/password-reset', {
    config: { access: 'portal' },
    schema: { hide: true, params: SlugParams },
  }, async (request, reply) => {
    const portal = kit.portalOf(request, request.params.slug);
    passwordMethod(portal);
    const tr = await kit.translator(request, portal);
    return kit.html(reply, kit.render(request, 'password-reset', portal, tr, { page_title: tr.t('reset.title'), csrf: kit.formToken(request, reply), email: '' }));
  });

  app.post('/:slug/password-reset', {
    config: { access: 'portal', limits: LINK_LIMIT },
    schema: { hide: true, params: SlugParams, body: EmailForm },
  }, async (request, reply) => {
    const portal = kit.portalOf(request, request.params.slug);
    passwordMethod(portal);
    if (!kit.formTokenOk(request, request.body.csrf)) throw errors.csrf();
    const tr = await kit.translator(request, portal);
    const email = request.body.email.trim();
    await account.requestPasswordReset(portal, email, tr);
    return checkEmail(request, reply, portal, tr, email, 'reset.sent.message');
  });

  // Links that set a password: a forgotten one (reset), or the first one (an invitation, P10).
  for (const [purpose, path, again] of [['reset', 'password-reset', 'password-reset'], ['invite', 'invitation', 'sign-in']] as const) {
    app.get(`/:slug/${path}/:token`, {
      config: { access: 'portal' },
      schema: { hide: true, params: TokenParams },
    }, async (request, reply) => {
      const portal = kit.portalOf(request, request.params.slug);
      passwordMethod(portal);
      if (!(await account.linkUsable(portal, purpose, request.params.token))) return invalidLink(request, reply, portal, again);
      const tr = await kit.translator(request, portal);
      const heading = tr.t('password.title');
      return kit.html(reply, kit.render(request, 'password-set', portal, tr, {
        page_title: heading, heading, csrf: kit.formToken(request, reply), action: `/${portal.slug}/${path}/${request.params.token}`, needs_current: false,
      }));
    });

    app.post(`/:slug/${path}/:token`, {
      config: { access: 'portal', limits: TOKEN_LIMIT },
      schema: { hide: true, params: TokenParams, body: PasswordForm },
    }, async (request, reply) => {
      const portal = kit.portalOf(request, request.params.slug);
      passwordMethod(portal);
      if (!kit.formTokenOk(request, request.body.csrf)) throw errors.csrf();
      const meta = { ip: request.ip, userAgent: request.headers['user-agent'] };
      let outcome: LinkOutcome;
      try {
        outcome = purpose === 'reset'
          ? await account.resetPassword(portal, request.params.token, request.body.password, meta)
          : await account.acceptInvitation(portal, request.params.token, request.body.password, meta);
      } catch (error) {
        return formAgain(error, request, reply, portal, { csrf: request.body.csrf, action: `/${portal.slug}/${path}/${request.params.token}`, needs_current: false });
      }
      return finish(request, reply, portal, outcome, again);
    });
  }

  // Self-registration (P9, P14, P29): name, email, password and consent; then the emailed link.
  const registerPage = async (request: FastifyRequest, reply: FastifyReply, portal: PortalRow, values: Record<string, unknown>, status = 200) => {
    const tr = await kit.translator(request, portal);
    const text = portalText(portal, tr.language);
    return kit.html(reply, kit.render(request, 'register', portal, tr, {
      page_title: tr.t('register.title'), consent_html: consentHtml(text.consentText ?? ''), consent_label: text.consentLabel ?? '', name: '', email: '', consent: false, ...values,
    }), status);
  };
  const registration = async (portal: PortalRow) => {
    if (!(await registrationOpen(app.deps.db, portal))) throw errors.routeNotFound();
  };

  app.get('/:slug/register', {
    config: { access: 'portal' },
    schema: { hide: true, params: SlugParams },
  }, async (request, reply) => {
    const portal = kit.portalOf(request, request.params.slug);
    await registration(portal);
    return registerPage(request, reply, portal, { csrf: kit.formToken(request, reply) });
  });

  app.post('/:slug/register', {
    config: { access: 'portal', limits: REGISTER_LIMIT },
    schema: { hide: true, params: SlugParams, body: RegisterForm },
  }, async (request, reply) => {
    const portal = kit.portalOf(request, request.params.slug);
    await registration(portal);
    if (!kit.formTokenOk(request, request.body.csrf)) throw errors.csrf();
    const tr = await kit.translator(request, portal);
    const { name, email, password, consent } = request.body;
    try {
      await account.register(portal, { name, email, password, consent: consent === 'yes', ip: request.ip, browser: browserProof(request, reply) }, tr);
    } catch (error) {
      if (!(error instanceof AppError) || error.code !== 'VALIDATION_FAILED' || error.pageMessage === undefined) throw error;
      // What the visitor typed stays (never the password), with what is wrong.
      return registerPage(request, reply, portal, { csrf: request.body.csrf, name, email, consent: consent === 'yes', error: tr.t(error.pageMessage.key) }, 400);
    }
    const heading = tr.t('reset.sent.title');
    return kit.html(reply, kit.render(request, 'notice', portal, tr, { page_title: heading, heading, message: tr.t('register.sent.message', { email: email.trim() }) }));
  });

  /**
   * An emailed link that signs in or changes something opens a page with one button, and only
   * the button's POST uses the link: mail scanners that open links never spend them (or sign
   * themselves in), and a forged cross-site POST lacks this browser's form token.
   */
  const confirmPage = async (request: FastifyRequest, reply: FastifyReply, portal: PortalRow, kind: keyof typeof CONFIRM_WORDS, values: Record<string, string> = {}) => {
    const tr = await kit.translator(request, portal);
    const words = CONFIRM_WORDS[kind];
    const heading = tr.t(words.title, { portal: portalText(portal, tr.language).name });
    return kit.html(reply, kit.render(request, 'confirm', portal, tr, {
      page_title: heading, heading, message: tr.t(words.message, values), button: tr.t(words.button),
      action: request.url.split('?')[0], csrf: kit.formToken(request, reply),
    }));
  };

  app.get('/:slug/verify/:token', {
    config: { access: 'portal', limits: TOKEN_LIMIT },
    schema: { hide: true, params: TokenParams },
  }, async (request, reply) => {
    const portal = kit.portalOf(request, request.params.slug);
    if (!(await account.linkUsable(portal, 'verify', request.params.token))) return invalidLink(request, reply, portal, 'sign-in');
    return confirmPage(request, reply, portal, 'verify');
  });

  app.post('/:slug/verify/:token', {
    config: { access: 'portal', limits: TOKEN_LIMIT },
    schema: { hide: true, params: TokenParams, body: CsrfForm },
  }, async (request, reply) => {
    const portal = kit.portalOf(request, request.params.slug);
    if (!kit.formTokenOk(request, request.body.csrf)) throw errors.csrf();
    const browser = readPortalCookie(request, 'registration');
    const outcome = await account.verify(portal, request.params.token, browser, { ip: request.ip, userAgent: request.headers['user-agent'] });
    if (outcome !== undefined) clearPortalCookie(reply, request, 'registration');
    // Confirmed in another browser than the one that registered: the mailbox's holder chooses
    // the password, and the page says why (the one chosen when registering was dropped).
    if (outcome !== undefined && outcome !== 'denied' && 'choosePassword' in outcome) {
      const tr = await kit.translator(request, portal);
      const heading = tr.t('password.title');
      const action = `/${portal.slug}/password-reset/${outcome.choosePassword}`;
      return kit.html(reply, kit.render(request, 'password-set', portal, tr, {
        page_title: heading, heading, notice: tr.t('password.otherDevice'), csrf: request.body.csrf, action, needs_current: false,
      }));
    }
    return finish(request, reply, portal, outcome, 'sign-in');
  });

  // Magic links (X2): ask for one, then follow it.
  app.post('/:slug/magic-link', {
    config: { access: 'portal', limits: LINK_LIMIT },
    schema: { hide: true, params: SlugParams, body: EmailForm },
  }, async (request, reply) => {
    const portal = kit.portalOf(request, request.params.slug);
    if (!signInMethods(portal).magic_link) throw errors.routeNotFound();
    if (!kit.formTokenOk(request, request.body.csrf)) throw errors.csrf();
    const tr = await kit.translator(request, portal);
    const email = request.body.email.trim();
    await account.requestMagicLink(portal, email, tr);
    return checkEmail(request, reply, portal, tr, email, 'magic.sent.message');
  });

  app.get('/:slug/magic-link/:token', {
    config: { access: 'portal', limits: TOKEN_LIMIT },
    schema: { hide: true, params: TokenParams },
  }, async (request, reply) => {
    const portal = kit.portalOf(request, request.params.slug);
    if (!signInMethods(portal).magic_link) throw errors.routeNotFound();
    if (!(await account.linkUsable(portal, 'magic', request.params.token))) return invalidLink(request, reply, portal, 'sign-in');
    return confirmPage(request, reply, portal, 'magic');
  });

  // The button: the link is used, and the answer is a redirect, so the token leaves the address bar.
  app.post('/:slug/magic-link/:token', {
    config: { access: 'portal', limits: TOKEN_LIMIT },
    schema: { hide: true, params: TokenParams, body: CsrfForm },
  }, async (request, reply) => {
    const portal = kit.portalOf(request, request.params.slug);
    if (!signInMethods(portal).magic_link) throw errors.routeNotFound();
    if (!kit.formTokenOk(request, request.body.csrf)) throw errors.csrf();
    return finish(request, reply, portal, await account.signInWithLink(portal, request.params.token, { ip: request.ip, userAgent: request.headers['user-agent'] }), 'sign-in');
  });

  // A signed-in member changes their email address (P11): the current password, then a link to the new one.
  const emailPage = async (request: FastifyRequest, reply: FastifyReply, portal: PortalRow, member: MemberPrincipal, values: Record<string, unknown>, status = 200) => {
    const tr = await kit.translator(request, portal);
    return kit.html(reply, kit.render(request, 'change-email', portal, tr, { page_title: tr.t('emailChange.title'), current_email: member.email, email: '', ...values }), status);
  };

  app.get('/:slug/account/email', {
    config: { access: 'member' },
    schema: { hide: true, params: SlugParams },
  }, async (request, reply) => {
    const { portal, member } = kit.signedIn(request, request.params.slug);
    passwordMethod(portal);
    return emailPage(request, reply, portal, member, {});
  });

  app.post('/:slug/account/email', {
    config: { access: 'member', limits: ACCOUNT_LIMIT },
    schema: { hide: true, params: SlugParams, body: ChangeEmailForm },
  }, async (request, reply) => {
    const { portal, member } = kit.signedIn(request, request.params.slug);
    passwordMethod(portal);
    if (!safeEqual(request.body.csrf, member.session.csrfToken)) throw errors.csrf();
    const tr = await kit.translator(request, portal);
    try {
      await account.requestEmailChange(portal, member.viewer.memberId, request.body.current, request.body.email, tr);
    } catch (error) {
      if (!(error instanceof AppError) || error.pageMessage === undefined || (error.code !== 'VALIDATION_FAILED' && error.code !== 'WRONG_PASSWORD')) throw error;
      return emailPage(request, reply, portal, member, { email: request.body.email, error: tr.t(error.pageMessage.key) }, 400);
    }
    const heading = tr.t('reset.sent.title');
    return kit.html(reply, kit.render(request, 'notice', portal, tr, { page_title: heading, heading, message: tr.t('emailChange.sent.message', { email: request.body.email.trim() }) }));
  });

  // The link in the mail to the new address; works signed in or not.
  app.get('/:slug/email-change/:token', {
    config: { access: 'portal', limits: TOKEN_LIMIT },
    schema: { hide: true, params: TokenParams },
  }, async (request, reply) => {
    const portal = kit.portalOf(request, request.params.slug);
    const link = await account.peekLink(portal, 'email', request.params.token);
    if (link?.payload === undefined || link.payload === null) return invalidLink(request, reply, portal, 'sign-in');
    return confirmPage(request, reply, portal, 'email', { email: link.payload });
  });

  app.post('/:slug/email-change/:token', {
    config: { access: 'portal', limits: TOKEN_LIMIT },
    schema: { hide: true, params: TokenParams, body: CsrfForm },
  }, async (request, reply) => {
    const portal = kit.portalOf(request, request.params.slug);
    if (!kit.formTokenOk(request, request.body.csrf)) throw errors.csrf();
    const tr = await kit.translator(request, portal);
    const email = await account.confirmEmailChange(portal, request.params.token, tr);
    if (email === undefined) return invalidLink(request, reply, portal, 'sign-in');
    const heading = tr.t('emailChange.done.title');
    return kit.html(reply, kit.render(request, 'notice', portal, tr, { page_title: heading, heading, message: tr.t('emailChange.done.message', { email }), action: { url: `/${portal.slug}`, label: tr.t('ticket.back') } }));
  });

  // A signed-in member changes their password with the current one.
  app.get('/:slug/account/password', {
    config: { access: 'member' },
    schema: { hide: true, params: SlugParams },
  }, async (request, reply) => {
    const { portal } = kit.signedIn(request, request.params.slug);
    passwordMethod(portal);
    const tr = await kit.translator(request, portal);
    const heading = tr.t('password.changeTitle');
    return kit.html(reply, kit.render(request, 'password-set', portal, tr, { page_title: heading, heading, section: 'account', action: `/${portal.slug}/account/password`, needs_current: true, email: request.member?.email ?? '' }));
  });

  app.post('/:slug/account/password', {
    config: { access: 'member', limits: ACCOUNT_LIMIT },
    schema: { hide: true, params: SlugParams, body: ChangePasswordForm },
  }, async (request, reply) => {
    const { portal, member } = kit.signedIn(request, request.params.slug);
    passwordMethod(portal);
    if (!safeEqual(request.body.csrf, member.session.csrfToken)) throw errors.csrf();
    try {
      await account.changePassword(member.viewer.memberId, member.session.idHash, request.body.current, request.body.password);
    } catch (error) {
      return formAgain(error, request, reply, portal, { action: `/${portal.slug}/account/password`, needs_current: true, email: member.email });
    }
    const tr = await kit.translator(request, portal);
    const heading = tr.t('password.changed.title');
    return kit.html(reply, kit.render(request, 'notice', portal, tr, { page_title: heading, heading, message: tr.t('password.changed.message'), action: { url: `/${portal.slug}`, label: tr.t('ticket.back') } }));
  });
}
