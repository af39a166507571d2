import formbody from '@fastify/formbody';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Deps } from '../../deps.js';
import { AppError, errors } from '../../errors.js';
import { clearPortalCookie, readPortalCookie, setPortalCookie } from './cookies.js';
import type { App } from '../../http/types.js';
import { PORTAL_PAGE_CSP as PAGE_CSP } from '../../http/security-headers.js';
import { perClient, perTarget } from '../../http/limits.js';
import { LIMITS } from '../../security/limits.js';
import { randomToken, safeEqual } from '../../security/secrets.js';
import { hasOrganizationView, PORTAL_SORTS, type AccessService, type View, type VisibleTicket } from '../access/access.service.js';
import { decodeCursor, pickSort, toPage } from '../../http/pagination.js';
import { EmailNotVerified, type MemberAuthService, type MemberPrincipal } from '../members/member-auth.service.js';
import type { PreviewsService } from './previews.service.js';
import { escape } from './liquid-runtime.js';
import type { PortalLogoService } from './logo.service.js';
import { sendAttachment } from '../conversations/download.js';
import type { ConversationsService } from '../conversations/conversations.service.js';
import type { PortalRow } from './portals.service.js';
import { loadTicketView } from './ticket-view.js';
import { replyToTicket } from './reply.js';
import type { StoredUpload } from '../conversations/conversations.service.js';
import type { Page, Theme } from './theme.js';
import type { PortalThemes } from './portal-themes.js';
import { TemplateLimitError } from './template-limits.js';
import { failpoint } from '../../util/failpoints.js';
import { iso } from '../../http/common-schemas.js';
import { chooseLanguage, offeredLanguages, type TranslationsService } from '../i18n/translations.service.js';
import type { Translator } from '../i18n/translator.js';
import { isLanguage } from '../i18n/catalogue.js';
import { portalText, textIn } from '../i18n/admin-text.js';
import { signInMethods, type MemberAccountService } from '../members/account.service.js';
import { accountRoutes, browserProof, type PageKit } from './account.routes.js';
import type { SsoService } from '../sso/sso.service.js';
import { ssoPageRoutes } from '../sso/sso-pages.routes.js';
import { fieldsIn, fieldsOf, primaryAnswers, type Answers, type FieldProblem, type FormRow, type FormsService } from '../forms/forms.service.js';
import { articleIn, categoryIn, type KnowledgeBaseService } from '../kb/kb.service.js';
import { registrationOpen } from '../members/access-lists.js';


export interface PagesOptions {
  deps: Deps;
  theme: Theme;
  access: AccessService;
  members: MemberAuthService;
  conversations: ConversationsService;
  translations: TranslationsService;
  themes: PortalThemes;
  account: MemberAccountService;
  sso: SsoService;
  forms: FormsService;
  kb: KnowledgeBaseService;
  previews: PreviewsService;
  logos: PortalLogoService;
}

/**
 * A staff preview's pages carry the banner whatever the portal's templates say (an admin's
 * layout cannot hide it): right after <body>, with a link that ends the preview.
 */
function withPreviewBanner(page: string, portal: PortalRow, member: MemberPrincipal, tr: Translator): string {
  const banner = `<div class="preview-banner" role="status" data-preview="true">${escape(tr.t('preview.banner', { name: member.name }))} <a href="/${escape(portal.slug)}/preview-end">${escape(tr.t('preview.end'))}</a></div>`;
  const body = /<body[^>]*>/i.exec(page);
  return body === null ? banner + page : page.slice(0, body.index + body[0].length) + banner + page.slice(body.index + body[0].length);
}

const SlugParams = Type.Object({ slug: Type.String({ minLength: 1, maxLength: 60 }) }, { additionalProperties: false });
const SignInForm = Type.Object(
  {
    email: Type.String({ maxLength: 254 }),
    password: Type.String({ maxLength: 256 }),
    csrf: Type.String({ maxLength: 100 }),
    next: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
);
const CsrfForm = Type.Object({ csrf: Type.String({ maxLength: 100 }) }, { additionalProperties: false });
const LanguageForm = Type.Object(
  {
    // Any text: an unknown code falls back to the portal's languages rather than failing.
    language: Type.String({ maxLength: 35 }),
    csrf: Type.String({ maxLength: 100 }),
    next: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
);
// A ticket's number as written in the address: anything else under the portal is a page not found, never a 400.
const TicketParams = Type.Object({ slug: Type.String({ minLength: 1, maxLength: 60 }), id: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false });

/**
 * A ticket's page: the path names a number, so that any other address under the portal matches
 * no route and is a page not found, signed in or not (never a 400, never a sign-in first).
 */
const TICKET_PATH = '/:slug/:id(^\\d+$)';

/** The ticket number an address names, or a 404 like any page that is not there. */
function ticketNumber(segment: string): number {
  const id = /^[1-9][0-9]{0,9}$/.test(segment) ? Number(segment) : NaN;
  if (!(id <= 2147483647)) throw errors.notFound('page');
  return id;
}
const AttachmentParams = Type.Object({ slug: Type.String({ minLength: 1, maxLength: 60 }), attachmentId: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false });
const ListQuery = Type.Object(
  {
    view: Type.Optional(Type.Enum(['mine', 'organization'])),
    status: Type.Optional(Type.Enum(['all', 'open', 'closed'])),
    q: Type.Optional(Type.String({ maxLength: 200 })),
    sort: Type.Optional(Type.Enum(['-lastActivity', 'lastActivity', '-created', 'created'])),
    cursor: Type.Optional(Type.String({ maxLength: 300 })),
  },
  { additionalProperties: false },
);

function portalOf(request: FastifyRequest, slug: string): PortalRow {
  const portal = request.portal;
  if (portal?.slug !== slug) throw errors.routeNotFound();
  return portal;
}

/** The portal and the signed-in member of a 'member' route (http/auth.ts has checked both). */
function signedIn(request: FastifyRequest, slug: string): { portal: PortalRow; member: MemberPrincipal } {
  const portal = portalOf(request, slug);
  const member = request.member;
  if (member === null) throw errors.unauthenticated();
  return { portal, member };
}

/** Open or Closed, or the stage's own name (in the visitor's language) when the portal shows custom stages (P33). */
function statusLabels(portal: PortalRow, tr: Translator): (closed: boolean, stage: string, stageTranslations: string | null) => string {
  if (portal.show_custom_stages === 1) return (_closed, stage, translations) => textIn(translations, tr.language, 'name', stage);
  const open = tr.t('status.open');
  const closed = tr.t('status.closed');
  return (isClosed) => (isClosed ? closed : open);
}

/** What every portal page needs beyond its own services. */
export interface PageServices {
  translations: TranslationsService;
  themes: PortalThemes;
}

/**
 * The page's translator, in the language chosen for this visitor (X1) among those the portal
 * offers, made once per request.
 */
export async function translatorFor({ translations, themes }: PageServices, request: FastifyRequest, portal: PortalRow): Promise<Translator> {
  if (request.translator !== null) return request.translator;
  // The portal's theme (its own templates, if it has any) is made ready with the translator.
  request.portalTheme = await themes.themeFor(portal);
  const language = chooseLanguage(portal, {
    chosen: readPortalCookie(request, 'language'),
    saved: request.member?.language,
    acceptLanguage: request.headers['accept-language'],
  });
  request.translator = await translations.translator(portal, language);
  return request.translator;
}

const NOWHERE = 'http://portal.invalid';

/**
 * Only a path on this portal, so a sign-in can never send the customer elsewhere: resolved as a
 * browser would (dot segments, percent escapes), and percent-encoded, so any character a link
 * may carry (日本) is safe in a Location header. Anything else is the portal's home.
 */
export function safeNext(portal: PortalRow, next: string | undefined): string {
  const home = `/${portal.slug}`;
  if (next === undefined || !next.startsWith('/') || next.startsWith('//') || /[\\\s\p{Cc}]/u.test(next)) return home;
  let url: URL;
  try {
    url = new URL(next, NOWHERE);
  } catch {
    return home;
  }
  if (url.origin !== NOWHERE || (url.pathname !== home && !url.pathname.startsWith(`${home}/`))) return home;
  return `${url.pathname}${url.search}`;
}

/** The portal's HTML error pages, for anything that goes wrong on a portal host, in the visitor's language. */
export async function portalErrorPage(services: PageServices, request: FastifyRequest, error: AppError): Promise<string | undefined> {
  const portal = request.portal;
  if (portal === null) return undefined;
  const tr = await translatorFor(services, request, portal);
  const [headingKey, messageKey] =
    error.code === 'PORTAL_NOT_AVAILABLE' ? ['error.notAvailable.heading', 'error.notAvailable.message']
    : error.status === 404 ? ['error.notFound.heading', 'error.notFound.message']
    : error.code === 'WAIT_AND_RETRY' ? ['error.busy.heading', 'error.busy.message']
    : error.status === 429 ? ['error.tooMany.heading', 'error.tooMany.message']
    : error.code === 'CSRF_TOKEN_INVALID' ? ['error.notAllowed.heading', 'error.expired.message']
    : error.status === 401 || error.status === 403 ? ['error.notAllowed.heading', 'error.notAllowed.message']
    : error.code === 'PAYLOAD_TOO_LARGE' ? ['error.badRequest.heading', 'reply.tooLarge']
    : error.status < 500 ? ['error.badRequest.heading', 'error.badRequest.message']
    : ['error.server.heading', 'error.server.message'];
  const heading = tr.t(headingKey);
  const message = error.pageMessage === undefined ? tr.t(messageKey) : tr.t(error.pageMessage.key, error.pageMessage.values);
  const context = { heading, message, page_title: heading, status: error.status === 404 ? 404 : null, nav: navigation(portal, request.member, 'error'), member: request.member === null ? null : { name: request.member.name }, csrf: request.member?.session.csrfToken ?? '',
    // A form posted here has no page to come back to at this address: the switch goes home.
    here: request.method === 'GET' || request.method === 'HEAD' ? request.url : `/${portal.slug}` };
  return renderWithFallback(request, 'error', portal, tr, context, services.themes.defaultTheme);
}

function html(reply: FastifyReply, body: string, status = 200, csp = PAGE_CSP): FastifyReply {
  // The language follows the visitor's cookie and Accept-Language at one URL (X1).
  return reply.code(status).type('text/html; charset=utf-8').header('content-security-policy', csp).header('cache-control', 'no-store')
    .header('vary', 'Accept-Language, Cookie').send(body);
}

/**
 * A page from the portal's theme; if the portal's own template fails on this data (it rendered
 * the sample data when saved), or reaches a template limit on it, the default theme's page
 * (which has no limits to reach), and the failure is logged.
 */
function renderWithFallback(request: FastifyRequest, page: Page, portal: PortalRow, tr: Translator, context: Record<string, unknown>, fallback: Theme): string {
  const theme = request.portalTheme ?? fallback;
  try {
    return theme.render(page, portal, context, tr);
  } catch (error) {
    if (theme === fallback) throw error;
    const limit = error instanceof TemplateLimitError ? error.limit : undefined;
    request.log.error({ err: error, page, portalId: portal.id, limit }, 'portal template failed; the default theme served the page');
    return fallback.render(page, portal, context, tr);
  }
}

/** Which navigation entry a page is (`aria-current="page"`) or lies under (`"true"`: a ticket under the list). */
const SECTIONS: Partial<Record<Page, [string, 'page' | 'true']>> = {
  home: ['home', 'page'], tickets: ['tickets', 'page'], ticket: ['tickets', 'true'], 'new-ticket': ['new', 'page'],
  kb: ['kb', 'page'], 'kb-article': ['kb', 'true'], 'change-email': ['account', 'page'],
};

/**
 * The portal's navigation: home and tickets for a member, the knowledge base unless the portal
 * hides it, the support form, and "Sign in" for a visitor (on knowledge base pages only where
 * the portal links them to itself).
 */
export function navigation(portal: PortalRow, member: MemberPrincipal | null, page: Page) {
  const kbPage = page === 'kb' || page === 'kb-article';
  const linked = !kbPage || portal.kb_portal_link === 1;
  const home = `/${portal.slug}`;
  return {
    home: member !== null && linked ? home : null,
    tickets: member !== null && linked ? `${home}/tickets` : null,
    kb: portal.kb_in_menu === 1 || kbPage ? `${home}/kb` : null,
    new_ticket: member !== null && linked && member.preview === undefined && portal.form_id !== null ? `${home}/new` : null,
    sign_in: member === null && linked && page !== 'sign-in' ? `${home}/sign-in` : null,
  };
}

/**
 * The customer portal's pages, on the portal's own host only (http/auth.ts). Forms are
 * urlencoded and carry a CSRF token: before sign-in a double-submit cookie, after it the
 * session's token.
 */
export async function pagesRoutes(app: App, { deps, theme, access, members, conversations, translations, themes, account, sso, forms, kb, previews, logos }: PagesOptions): Promise<void> {
  await app.register(formbody, { bodyLimit: 16 * 1024 });
  const pageServices: PageServices = { translations, themes };

  const render = (request: FastifyRequest, page: Page, portal: PortalRow, tr: Translator, context: Record<string, unknown>) => {
    const member = request.member;
    const preview = member?.preview !== undefined;
    const body = renderWithFallback(request, page, portal, tr, {
      section: SECTIONS[page]?.[0] ?? '',
      current: SECTIONS[page]?.[1] ?? 'page',
      ...context,
      nav: navigation(portal, member, page),
      // A preview offers nothing that would change anything.
      member: member === null ? null : { name: member.name, can_change_password: !preview && signInMethods(portal).password, new_ticket_url: preview || portal.form_id === null ? null : `/${portal.slug}/new` },
      csrf: member?.session.csrfToken ?? context.csrf ?? '',
      // Where the language switch comes back to: a page's own address, unless the page says
      // otherwise (one answering a form posted elsewhere).
      here: typeof context.here === 'string' ? context.here : request.url,
    }, theme);
    return member !== null && preview ? withPreviewBanner(body, portal, member, tr) : body;
  };

  // A staff preview (P28, P30): the one-time link from the staff app becomes a preview cookie on
  // this host; an unknown, used or expired link is a 404 like any missing page.
  app.get('/:slug/preview/:token', {
    config: { access: 'portal' },
    schema: { hide: true, params: Type.Object({ slug: Type.String({ minLength: 1, maxLength: 60 }), token: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false }) },
  }, async (request, reply) => {
    const portal = portalOf(request, request.params.slug);
    const opened = await previews.open(portal, request.params.token);
    if (opened === undefined) throw errors.notFound('preview');
    setPortalCookie(reply, request, 'preview', opened.token, { expires: new Date(opened.expiresAt) });
    return reply.code(303).header('location', `/${portal.slug}`).header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').send();
  });

  app.get('/:slug/preview-end', {
    config: { access: 'portal' },
    schema: { hide: true, params: SlugParams },
  }, async (request, reply) => {
    const portal = portalOf(request, request.params.slug);
    const token = readPortalCookie(request, 'preview');
    if (token !== undefined && token !== '' && token.length <= 200) await previews.end(portal, token);
    clearPortalCookie(reply, request, 'preview');
    return reply.code(303).header('location', `/${portal.slug}/sign-in`).header('cache-control', 'no-store').send();
  });

  /**
   * A signed-in member's multipart form (a reply, the support form): its text fields, and its
   * files stored durably. The form sends its CSRF token first; no file is stored before it checks
   * out, and the limits stop an oversize upload while it streams, not after. `fileKey` names the
   * field a file part belongs to, or undefined to skip it.
   */
  async function readUpload(request: FastifyRequest, member: MemberPrincipal, options: { fields: number; fileKey: (fieldname: string) => string | undefined }) {
    if (!request.isMultipart()) throw errors.unsupportedMediaType('multipart/form-data');
    const totalLimit = deps.config.attachmentLimit * 2;
    let csrf: string | undefined;
    let total = 0;
    const fields: Record<string, string> = {};
    const files: { key: string; stored: StoredUpload }[] = [];
    const parts = request.parts({ limits: { files: REPLY_MAX_FILES, fileSize: deps.config.attachmentLimit, fields: options.fields + 1, fieldSize: 64 * 1024, parts: REPLY_MAX_FILES + options.fields + 1 } });
    for await (const part of parts) {
      if (part.type === 'field') {
        if (typeof part.value !== 'string') continue;
        if (part.fieldname === 'csrf') csrf = part.value;
        else fields[part.fieldname] = part.value;
        continue;
      }
      if (csrf === undefined || !safeEqual(csrf, member.session.csrfToken)) {
        part.file.resume();
        throw errors.csrf();
      }
      const key = options.fileKey(part.fieldname);
      if (part.filename === '' || key === undefined) {
        part.file.resume();
        continue;
      }
      const stored = await conversations.storeFile(part.file, part.filename, part.mimetype);
      total += stored.size;
      if (total > totalLimit) throw errors.payloadTooLarge();
      files.push({ key, stored });
    }
    if (csrf === undefined || !safeEqual(csrf, member.session.csrfToken)) throw errors.csrf();
    return { fields, files };
  }

  /** The sign-in page's single sign-on buttons (P12): each enabled provider, returning to `next`. */
  const providersFor = async (portal: PortalRow, next: string) => {
    if (!signInMethods(portal).sso) return [];
    const query = next === `/${portal.slug}` ? '' : `?next=${encodeURIComponent(next)}`;
    return (await sso.enabledFor(portal)).map((p) => ({ name: p.name, url: `/${portal.slug}/sso/${p.id}/start${query}` }));
  };

  function formToken(request: FastifyRequest, reply: FastifyReply): string {
    const existing = readPortalCookie(request, 'form');
    if (existing !== undefined && /^[A-Za-z0-9_-]{20,64}$/.test(existing)) return existing;
    const token = randomToken(24);
    setPortalCookie(reply, request, 'form', token);
    return token;
  }

  app.get('/assets/portal.css', { config: { access: 'portal' }, schema: { hide: true } }, (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=300').send(theme.css));

  // The theme's one script; its old name stays for portals whose own templates still name it.
  for (const name of ['portal.js', 'suggest.js']) {
    app.get(`/assets/${name}`, { config: { access: 'portal' }, schema: { hide: true } }, (_request, reply) =>
      reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=300').send(theme.script));
  }

  // The uploaded logo, by its hash: a new logo is a new address, so this one never changes.
  app.get('/assets/logo/:hash', {
    config: { access: 'portal' },
    schema: { hide: true, params: Type.Object({ hash: Type.String({ pattern: '^[0-9a-f]{64}$', 'x-hint': 'Open the address exactly as the page gave it.' }) }, { additionalProperties: false }) },
  }, async (request, reply) => {
    const logo = await logos.open(request.portal as PortalRow, request.params.hash);
    if (logo === undefined) throw errors.notFound('logo');
    return reply.header('content-type', logo.contentType).header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "default-src 'none'; sandbox").header('cache-control', 'public, max-age=31536000, immutable').send(logo.body);
  });

  app.get('/assets/brand.css', { config: { access: 'portal' }, schema: { hide: true } }, (request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=60').send(theme.brandCss(request.portal as PortalRow)));

  app.get('/:slug/sign-in', {
    config: { access: 'portal' },
    schema: { hide: true, params: SlugParams, querystring: Type.Object({ next: Type.Optional(Type.String({ maxLength: 1000 })) }, { additionalProperties: false }) },
  }, async (request, reply) => {
    const portal = portalOf(request, request.params.slug);
    const csrf = formToken(request, reply);
    const tr = await translatorFor(pageServices, request, portal);
    const next = safeNext(portal, request.query.next);
    return html(reply, render(request, 'sign-in', portal, tr, { page_title: tr.t('signIn.title'), csrf, next, email: '', methods: signInMethods(portal), self_registration: await registrationOpen(deps.db, portal), providers: await providersFor(portal, next) }));
  });

  app.post('/:slug/sign-in', {
    config: { access: 'portal', limits: [perClient(LIMITS.signInClient, { soft: true }), perTarget(LIMITS.signInAccount)] },
    schema: { hide: true, params: SlugParams, body: SignInForm },
  }, async (request, reply) => {
    const portal = portalOf(request, request.params.slug);
    if (!signInMethods(portal).password) throw errors.routeNotFound();
    const cookie = readPortalCookie(request, 'form');
    if (cookie === undefined || !safeEqual(cookie, request.body.csrf)) throw errors.csrf();
    const next = safeNext(portal, request.body.next);
    try {
      const { token, expiresAt } = await members.signIn(portal, request.body.email, request.body.password, { ip: request.ip, userAgent: request.headers['user-agent'] });
      setPortalCookie(reply, request, 'member', token, { expires: new Date(expiresAt) });
      return await reply.code(303).header('location', next).header('cache-control', 'no-store').send();
    } catch (error) {
      if (error instanceof EmailNotVerified) {
        // The right password for an address never confirmed: a new link, and a page saying so.
        const tr = await translatorFor(pageServices, request, portal);
        const email = await account.resendVerification(portal, error.memberId, tr, browserProof(request, reply));
        const heading = tr.t('signIn.unverified.title');
        return html(reply, render(request, 'notice', portal, tr, { page_title: heading, heading, message: tr.t('signIn.unverified.message', { email }) }), 403);
      }
      if (error instanceof AppError && error.code === 'ACCESS_DENIED') {
        // The right password, but the portal's contact lists leave this member out (P10).
        const tr = await translatorFor(pageServices, request, portal);
        const heading = tr.t('access.denied.title');
        return html(reply, render(request, 'access-denied', portal, tr, { page_title: heading, heading, message: tr.t('access.denied.message') }), 403);
      }
      if (!(error instanceof AppError) || error.code !== 'INVALID_CREDENTIALS') throw error;
      const tr = await translatorFor(pageServices, request, portal);
      return html(reply, render(request, 'sign-in', portal, tr, { page_title: tr.t('signIn.title'), csrf: request.body.csrf, next, email: request.body.email, error: tr.t('signIn.wrong'), methods: signInMethods(portal), self_registration: await registrationOpen(deps.db, portal), providers: await providersFor(portal, next) }), 401);
    }
  });

  app.post('/:slug/sign-out', {
    config: { access: 'member' },
    schema: { hide: true, params: SlugParams, body: CsrfForm },
  }, async (request, reply) => {
    const { portal, member } = signedIn(request, request.params.slug);
    if (!safeEqual(request.body.csrf, member.session.csrfToken)) throw errors.csrf();
    await members.signOut(member.session.idHash);
    clearPortalCookie(reply, request, 'member');
    return reply.code(303).header('location', `/${portal.slug}/sign-in`).header('cache-control', 'no-store').send();
  });

  // The language switch (X1): remembered in a cookie, and as the member's preference when
  // signed in. The page's URL stays the same; an unknown code just forgets the choice.
  app.post('/:slug/language', {
    config: { access: 'portal' },
    schema: { hide: true, params: SlugParams, body: LanguageForm },
  }, async (request, reply) => {
    const portal = portalOf(request, request.params.slug);
    const token = readPortalCookie(request, 'member');
    const member = token === undefined || token === '' || token.length > 200 ? null : await members.resolve(portal, token);
    const expected = member === null ? readPortalCookie(request, 'form') : member.session.csrfToken;
    if (expected === undefined || !safeEqual(expected, request.body.csrf)) throw errors.csrf();
    const language = request.body.language;
    if (isLanguage(language) && offeredLanguages(portal).includes(language)) {
      setPortalCookie(reply, request, 'language', language, { maxAge: 365 * 24 * 3600 });
      if (member !== null) await members.saveLanguage(member.viewer.memberId, language);
    } else {
      clearPortalCookie(reply, request, 'language');
    }
    return reply.code(303).header('location', safeNext(portal, request.body.next)).header('cache-control', 'no-store').send();
  });

  /** The list's rows as every page shows them (the home page, search, the list). */
  const ticketRows = (portal: PortalRow, tr: Translator, rows: VisibleTicket[]) => {
    const statusLabel = statusLabels(portal, tr);
    return rows.map((r) => ({
      id: r.id,
      subject: r.subject,
      created_at: iso(r.created_at),
      created: tr.date(r.created_at),
      last_activity_at: iso(r.last_activity_at),
      last_activity: tr.date(r.last_activity_at),
      state: r.is_closed === 1 ? 'closed' : 'open',
      status: statusLabel(r.is_closed === 1, r.stage, r.stage_translations),
    }));
  };
  /** The view a member's list starts in: the company's (which holds their own too) where the portal shows it. */
  const defaultView = (portal: PortalRow, member: MemberPrincipal): View => (portal.scope === 'company' && hasOrganizationView(member.viewer) ? 'organization' : 'mine');
  const defaultSort = () => pickSort(undefined, '-lastActivity', PORTAL_SORTS, 'a.ticket_id');
  const articleUrl = (portal: PortalRow) => (a: { slug: string }) => `/${portal.slug}/kb/${a.slug}`;

  // The help-center home (P31, C8): one search over tickets and articles, the support form, the
  // member's open tickets and the most read articles. The list's old address (with its
  // filters in the query) still leads to the list.
  app.get('/:slug', {
    config: { access: 'member' },
    schema: { hide: true, params: SlugParams, querystring: ListQuery },
  }, async (request, reply) => {
    const { portal, member } = signedIn(request, request.params.slug);
    const query = new URLSearchParams(request.url.split('?')[1] ?? '').toString();
    if (query !== '') return reply.code(301).header('location', `/${portal.slug}/tickets?${query}`).header('cache-control', 'no-store').send();
    const tr = await translatorFor(pageServices, request, portal);
    const open = await access.listVisible(member.viewer, { view: defaultView(portal, member), sort: defaultSort(), limit: HOME_TICKETS, status: 'open' });
    const popular = portal.kb_in_menu === 1 ? (await kb.popular(HOME_ARTICLES)).map((a) => ({ title: articleIn(a, tr.language).title, url: articleUrl(portal)(a) })) : null;
    return html(reply, render(request, 'home', portal, tr, {
      page_title: portalText(portal, tr.language).title, open_tickets: ticketRows(portal, tr, open.slice(0, HOME_TICKETS)), popular,
      new_ticket_url: member.preview === undefined && portal.form_id !== null ? `/${portal.slug}/new` : null,
    }));
  });

  // One search box over the member's tickets and the published articles.
  app.get('/:slug/search', {
    config: { access: 'member' },
    schema: { hide: true, params: SlugParams, querystring: Type.Object({ q: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: false }) },
  }, async (request, reply) => {
    const { portal, member } = signedIn(request, request.params.slug);
    const tr = await translatorFor(pageServices, request, portal);
    const q = (request.query.q ?? '').trim();
    if (q === '') return html(reply, render(request, 'search', portal, tr, { page_title: tr.t('search.title'), q: '', tickets: [], articles: null, more_tickets: null }));
    const view = defaultView(portal, member);
    const found = await access.listVisible(member.viewer, { view, sort: defaultSort(), limit: SEARCH_TICKETS, search: q });
    const articles = portal.kb_in_menu === 1 ? (await kb.articles({ query: q, publishedOnly: true, limit: SEARCH_ARTICLES })).map((a) => ({ title: articleIn(a, tr.language).title, url: articleUrl(portal)(a) })) : null;
    const more = found.length > SEARCH_TICKETS ? `/${portal.slug}/tickets?${new URLSearchParams({ ...(portal.scope === 'company' ? { view } : {}), q }).toString()}` : null;
    return html(reply, render(request, 'search', portal, tr, {
      page_title: tr.t('search.heading', { query: q }), q, tickets: ticketRows(portal, tr, found.slice(0, SEARCH_TICKETS)), articles, more_tickets: more,
    }));
  });

  app.get('/:slug/tickets', {
    config: { access: 'member' },
    schema: { hide: true, params: SlugParams, querystring: ListQuery },
  }, async (request, reply) => {
    const { portal, member } = signedIn(request, request.params.slug);
    // The views exist where the portal shows company tickets and the member has a company (P19).
    const companyScope = portal.scope === 'company' && hasOrganizationView(member.viewer);
    const query = request.query;
    const view: View = companyScope ? (query.view ?? 'organization') : 'mine';
    const sort = pickSort(query.sort, '-lastActivity', PORTAL_SORTS, 'a.ticket_id');
    const status = query.status === 'open' || query.status === 'closed' ? query.status : undefined;
    const search = query.q === undefined || query.q.trim() === '' ? undefined : query.q.trim();
    const cursor = decodeCursor(sort, query.cursor);
    const found = await access.listVisible(member.viewer, { view, sort, limit: PAGE_SIZE, ...(status === undefined ? {} : { status }), ...(search === undefined ? {} : { search }), ...(cursor === undefined ? {} : { cursor }) });
    const page = toPage(found, PAGE_SIZE, sort, (r) => ({ value: r.sortValue, id: r.id }));
    const tr = await translatorFor(pageServices, request, portal);
    const tickets = ticketRows(portal, tr, page.rows);
    const link = (changes: Record<string, string | undefined>) => {
      const params = new URLSearchParams();
      const merged: Record<string, string | undefined> = { view: companyScope ? view : undefined, status: query.status, q: search, sort: query.sort, ...changes };
      for (const [k, v] of Object.entries(merged)) if (v !== undefined && v !== '') params.set(k, v);
      const qs = params.toString();
      return `/${portal.slug}/tickets${qs === '' ? '' : `?${qs}`}`;
    };
    const filters = { view, status: query.status ?? 'all', q: search ?? '', sort: sort.name };
    const next = page.nextCursor === null ? null : link({ cursor: page.nextCursor });
    return html(reply, render(request, 'tickets', portal, tr, {
      page_title: tr.t('tickets.heading'), tickets, view, company_scope: companyScope, filters, next_page: next,
      new_ticket_url: member.preview === undefined && portal.form_id !== null ? `/${portal.slug}/new` : null,
      view_links: { mine: link({ view: 'mine', cursor: undefined }), organization: link({ view: 'organization', cursor: undefined }) },
    }));
  });

  // The knowledge base (C8, P24): public on the portal's host, published articles only.
  const KbQuery = Type.Object({ q: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: false });
  app.get('/:slug/kb', {
    config: { access: 'portal', memberIfSignedIn: true },
    schema: { hide: true, params: SlugParams, querystring: KbQuery },
  }, async (request, reply) => {
    const portal = portalOf(request, request.params.slug);
    const tr = await translatorFor(pageServices, request, portal);
    const q = (request.query.q ?? '').trim();
    const url = articleUrl(portal);
    const portalLink = portal.kb_portal_link === 1 ? `/${portal.slug}` : null;
    // A visitor's language switch needs the form token a signed-in member's session holds.
    const csrf = request.member === null ? formToken(request, reply) : undefined;
    if (q !== '') {
      const results = (await kb.articles({ query: q, publishedOnly: true, limit: 50 })).map((a) => ({ title: articleIn(a, tr.language).title, url: url(a) }));
      return html(reply, render(request, 'kb', portal, tr, { page_title: tr.t('kb.results', { count: results.length, query: q }), csrf, q, results, categories: [], portal_link: portalLink }));
    }
    const articles = await kb.articles({ publishedOnly: true, limit: 1000 });
    const categories = (await kb.categories()).map((c) => ({
      ...categoryIn(c, tr.language), articles: articles.filter((a) => a.category_id === c.id).map((a) => ({ title: articleIn(a, tr.language).title, url: url(a) })),
    })).filter((c) => c.articles.length > 0);
    return html(reply, render(request, 'kb', portal, tr, { page_title: tr.t('kb.heading'), csrf, q: '', results: [], categories, portal_link: portalLink }));
  });

  // Articles matching what a customer types as a new ticket's subject (portal.js), at most five.
  app.get('/:slug/kb-suggest', {
    config: { access: 'portal', limits: [perClient(LIMITS.suggestClient)] },
    schema: { hide: true, params: SlugParams, querystring: Type.Object({ q: Type.String({ maxLength: 200 }) }, { additionalProperties: false }) },
  }, async (request, reply) => {
    const portal = portalOf(request, request.params.slug);
    const { language } = await translatorFor(pageServices, request, portal);
    const items = (await kb.suggest(request.query.q, 5)).map((a) => ({ title: articleIn(a, language).title, url: `/${portal.slug}/kb/${a.slug}` }));
    return reply.header('cache-control', 'no-store').send({ items });
  });

  app.get('/:slug/kb/:article', {
    config: { access: 'portal', memberIfSignedIn: true },
    schema: { hide: true, params: Type.Object({ slug: Type.String({ minLength: 1, maxLength: 60 }), article: Type.String({ minLength: 1, maxLength: 80 }) }, { additionalProperties: false }) },
  }, async (request, reply) => {
    const portal = portalOf(request, request.params.slug);
    const article = await kb.publishedBySlug(request.params.article);
    if (article === undefined) throw errors.notFound('article');
    const category = await kb.category(article.category_id);
    const tr = await translatorFor(pageServices, request, portal);
    // A signed-in member's reading counts towards the home page's popular articles. Anonymous
    // readings do not: a public page would otherwise write (and sync to disk) on every request,
    // crawlers' included, and anyone could push an article up.
    if (request.member !== null) await kb.countView(article.id);
    const shown = articleIn(article, tr.language);
    return html(reply, render(request, 'kb-article', portal, tr, {
      page_title: shown.title, portal_link: portal.kb_portal_link === 1 ? `/${portal.slug}` : null,
      csrf: request.member === null ? formToken(request, reply) : undefined,
      article: { title: shown.title, category: categoryIn(category, tr.language).name, html: shown.html, updated: tr.dateTime(article.updated_at) },
    }));
  });

  /** The portal's support form (P25), or 404 when it names none. */
  const formOf = async (portal: PortalRow): Promise<FormRow> => {
    if (portal.form_id === null) throw errors.routeNotFound();
    return forms.get(portal.form_id);
  };
  const formPage = async (request: FastifyRequest, reply: FastifyReply, portal: PortalRow, form: FormRow, answers: Answers, problems: FieldProblem[], filesLost: boolean) => {
    const tr = await translatorFor(pageServices, request, portal);
    const fields = fieldsIn(form, tr.language).map((f) => {
      const problem = problems.find((p) => p.key === f.key);
      return { ...f, value: answers[f.key] ?? '', problem: problem === undefined ? null : tr.t(problem.message), suggest: f.maps === 'subject' };
    });
    return html(reply, render(request, 'new-ticket', portal, tr, { page_title: tr.t('form.title'), fields, problems, files_lost: filesLost }), problems.length > 0 ? 400 : 200);
  };

  app.get('/:slug/new', {
    config: { access: 'member' },
    schema: { hide: true, params: SlugParams },
  }, async (request, reply) => {
    const { portal } = signedIn(request, request.params.slug);
    return formPage(request, reply, portal, await formOf(portal), {}, [], false);
  });

  // P25 P37 C7: the answers and files of the support form become a ticket, or the form again
  // with what the customer typed and what to correct.
  app.post('/:slug/new', {
    config: { access: 'member' },
    schema: { hide: true, params: SlugParams },
  }, async (request, reply) => {
    const { portal, member } = signedIn(request, request.params.slug);
    const form = await formOf(portal);
    const fields = fieldsOf(form);
    const fileFields = new Set(fields.filter((f) => f.type === 'file').map((f) => `f_${f.key}`));
    const upload = await readUpload(request, member, { fields: fields.length + 1, fileKey: (name) => (fileFields.has(name) ? name.slice(2) : undefined) });
    const answers: Answers = Object.fromEntries(Object.entries(upload.fields).filter(([name]) => name.startsWith('f_')).map(([name, value]) => [name.slice(2), value]));
    const counts: Record<string, number> = {};
    for (const f of upload.files) counts[f.key] = (counts[f.key] ?? 0) + 1;
    const files = upload.files.map((f) => f.stored);
    // A choice is shown in the visitor's language and kept as the option as written.
    const stored = primaryAnswers(form, (await translatorFor(pageServices, request, portal)).language, answers);
    const problems = forms.problems(form, stored, counts);
    // Files already stored and not attached to anything are swept later (storage/file-store.ts).
    if (problems.length > 0) return formPage(request, reply, portal, form, answers, problems, fileFields.size > 0);
    const ticketId = await forms.submit(form, member.viewer.contactId, stored, files);
    const visible = await access.findVisibleTicketId(member.viewer, ticketId);
    // A ticket the portal's rules hide from its own submitter still reaches the inbox; the list is where they land.
    return reply.code(303).header('location', visible === undefined ? `/${portal.slug}` : `/${portal.slug}/${ticketId}`).header('cache-control', 'no-store').send();
  });

  /** A ticket's page; after a reply that could not be sent, with what was typed and why, at the reply box. */
  const ticketPage = async (request: FastifyRequest, reply: FastifyReply, portal: PortalRow, member: MemberPrincipal, id: number, failed?: { text: string; error: string; filesLost: boolean }) => {
    const view = await loadTicketView(deps.db, access, member.viewer, id);
    // Not visible answers exactly like not there.
    if (view === undefined) throw errors.notFound('ticket');
    const tr = await translatorFor(pageServices, request, portal);
    const ticket = {
      id: view.id,
      subject: view.subject,
      closed: view.closed,
      state: view.closed ? 'closed' : 'open',
      status: statusLabels(portal, tr)(view.closed, view.stage, view.stageTranslations),
      created_at: iso(view.createdAt),
      created: tr.dateTime(view.createdAt),
      last_activity_at: iso(view.lastActivityAt),
      last_activity: tr.dateTime(view.lastActivityAt),
      messages: view.messages.map((m) => ({
        author: m.author ?? (m.fromCustomer ? tr.t('ticket.customer') : tr.t('ticket.supportTeam')),
        from_customer: m.fromCustomer,
        body: m.bodyText,
        created_at: iso(m.createdAt),
        created: tr.dateTime(m.createdAt),
        attachments: m.attachments.map((f) => ({ id: f.id, filename: f.filename, size: tr.fileSize(f.size) })),
      })),
    };
    return html(reply, render(request, 'ticket', portal, tr, {
      page_title: view.subject, ticket, max_files: REPLY_MAX_FILES,
      reply_text: failed?.text ?? '', reply_error: failed?.error ?? null, files_lost: failed?.filesLost ?? false,
      // After a reply that could not be sent the address is the form's: the switch returns to the ticket.
      here: `/${portal.slug}/${id}`,
    }), failed === undefined ? 200 : 400);
  };

  app.get(TICKET_PATH, {
    config: { access: 'member' },
    schema: { hide: true, params: TicketParams },
  }, async (request, reply) => {
    const { portal, member } = signedIn(request, request.params.slug);
    return ticketPage(request, reply, portal, member, ticketNumber(request.params.id));
  });

  app.post(`${TICKET_PATH}/reply`, {
    config: { access: 'member' },
    schema: { hide: true, params: TicketParams },
  }, async (request, reply) => {
    const { portal, member } = signedIn(request, request.params.slug);
    const id = ticketNumber(request.params.id);
    const upload = await readUpload(request, member, { fields: 3, fileKey: (name) => name });
    const text = upload.fields.body ?? '';
    const files = upload.files.map((f) => f.stored);
    // A reply that cannot be sent comes back to the ticket's page, the text kept, the reason at the box.
    // Its files, stored already, are swept later (storage/file-store.ts).
    const problem = text.length > REPLY_MAX_TEXT ? { key: 'reply.tooLong', values: { max: REPLY_MAX_TEXT } }
      // PostgreSQL cannot store a NUL in text (a 500 there); refuse it on both databases alike.
      : text.includes('\u0000') ? { key: 'reply.badCharacter' }
      : text.trim() === '' && files.length === 0 ? { key: 'reply.empty' }
      : undefined;
    if (problem !== undefined) {
      const tr = await translatorFor(pageServices, request, portal);
      return ticketPage(request, reply, portal, member, id, { text: text.slice(0, REPLY_MAX_TEXT).replaceAll('\u0000', ''), error: tr.t(problem.key, problem.values), filesLost: files.length > 0 });
    }
    await failpoint('reply.files-stored');
    await replyToTicket(deps, access, conversations, portal, member.viewer, id, text, files);
    await failpoint('reply.committed');
    return reply.code(303).header('location', `/${portal.slug}/${id}`).header('cache-control', 'no-store').send();
  });

  const kit: PageKit = {
    portalOf, signedIn, render, html, formToken,
    translator: (request, portal) => translatorFor(pageServices, request, portal),
    formTokenOk: (request, sent) => {
      const cookie = readPortalCookie(request, 'form');
      return cookie !== undefined && safeEqual(cookie, sent);
    },
  };
  accountRoutes(app, { account, kit });
  ssoPageRoutes(app, { sso, members, kit, safeNext });

  app.get('/:slug/attachments/:attachmentId(^\\d+$)', {
    config: { access: 'member' },
    schema: { hide: true, params: AttachmentParams },
  }, async (request, reply) => {
    const { member } = signedIn(request, request.params.slug);
    const id = await access.findVisibleAttachmentId(member.viewer, ticketNumber(request.params.attachmentId));
    if (id === undefined) throw errors.notFound('attachment');
    const row = await conversations.getAttachment(id);
    return sendAttachment(reply, row, await conversations.openAttachment(row));
  });
}

/** How many files, and how many bytes in all, one reply may carry. */
const REPLY_MAX_FILES = 10;
const PAGE_SIZE = 25;
/** The home page's open tickets and popular articles; a search's tickets and articles. */
const HOME_TICKETS = 5;
const HOME_ARTICLES = 6;
const SEARCH_TICKETS = 10;
const SEARCH_ARTICLES = 10;
const REPLY_MAX_TEXT = 20_000;
