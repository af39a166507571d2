import { portalText } from '../i18n/admin-text.js';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Conn } from '../../db/database.js';
import type { Deps } from '../../deps.js';
import { errors } from '../../errors.js';
import type { PortalHosts } from './hosts.js';
import type { PortalRow } from './portals.service.js';
import { defaultTemplate, Theme, TEMPLATE_NAMES, type EmailContent, type Page, type TemplateName } from './theme.js';
import type { Translator } from '../i18n/translator.js';
import { templateError } from './template-errors.js';
import { TemplateLimitError } from './template-limits.js';

/** Where PortalThemes tells of a portal's template that failed and what served instead. */
export interface TemplateLog {
  warn(details: object, message: string): void;
}
const silent: TemplateLog = { warn: () => undefined };

/** Data shaped like each page's, for previews and for trying a template before it is saved. */
export function sampleContext(name: TemplateName, tr: Translator): { page: Page | 'email'; context: Record<string, unknown> } {
  const member = { name: 'Cora Customer', can_change_password: true };
  const common = { member, csrf: 'sample-csrf-token', here: '/tickets', nav: { home: '/tickets', tickets: '/tickets/tickets', kb: '/tickets/kb', new_ticket: '/tickets/new', sign_in: null } };
  const day = tr.date(Date.UTC(2026, 10, 24, 9, 30));
  const when = tr.dateTime(Date.UTC(2026, 10, 24, 9, 30));
  const iso = '2026-11-24T09:30:00.000Z';
  const tickets = [1042, 1041, 1037].map((id, i) => ({
    id, subject: ['Printer says “PC LOAD LETTER”', 'Invoice address is wrong', 'Cannot sign in after a password change'][i] ?? '', created_at: iso, created: day,
    last_activity_at: iso, last_activity: day, state: i === 2 ? 'closed' : 'open', status: i === 2 ? tr.t('status.closed') : tr.t('status.open'),
  }));
  const ticket = {
    id: 1042, subject: 'Printer says “PC LOAD LETTER”', closed: false, state: 'open', status: tr.t('status.open'), created_at: iso, created: when,
    messages: [
      { author: 'Cora Customer', from_customer: true, body: 'The printer on the second floor stopped.\nWhat does it mean?', created_at: iso, created: when, attachments: [{ id: 1, filename: 'photo.jpg', size: tr.fileSize(245_000) }] },
      { author: 'Alan Agent', from_customer: false, body: 'It wants Letter paper. Could you load some and try again?', created_at: iso, created: when, attachments: [] },
    ],
  };
  const articles = [{ title: 'What PC LOAD LETTER means', url: '/tickets/kb/pc-load-letter' }, { title: 'Changing your invoice address', url: '/tickets/kb/invoice-address' }];
  switch (name) {
    case 'home':
      return { page: 'home', context: { ...common, page_title: 'Acme Help', section: 'home', current: 'page', new_ticket_url: '/tickets/new', open_tickets: tickets.slice(0, 2), popular: articles } };
    case 'search':
      return { page: 'search', context: { ...common, page_title: 'Printer', q: 'printer', tickets: tickets.slice(0, 1), articles: articles.slice(0, 1), more_tickets: '/tickets/tickets?q=printer' } };
    case 'layout':
    case 'tickets':
      return { page: 'tickets', context: { ...common, page_title: 'Your tickets', new_ticket_url: '/tickets/new', tickets, view: 'organization', company_scope: true, filters: { view: 'organization', status: 'all', q: '', sort: '-lastActivity' }, next_page: '/tickets?cursor=sample', view_links: { mine: '/tickets?view=mine', organization: '/tickets?view=organization' } } };
    case 'ticket':
      return { page: 'ticket', context: { ...common, page_title: ticket.subject, ticket, max_files: 10 } };
    case 'kb':
      return { page: 'kb', context: { ...common, member: null, page_title: tr.t('kb.heading'), q: '', results: [], portal_link: '/tickets', categories: [
        { name: 'Printing', description: 'Paper, toner and jams.', articles: [{ title: 'What PC LOAD LETTER means', url: '/tickets/kb/pc-load-letter' }] },
      ] } };
    case 'kb-article':
      return { page: 'kb-article', context: { ...common, member: null, page_title: 'What PC LOAD LETTER means', portal_link: '/tickets', article: {
        title: 'What PC LOAD LETTER means', category: 'Printing', html: '<p>The printer wants <strong>Letter</strong> paper.</p>', updated: when,
      } } };
    case 'new-ticket':
      return { page: 'new-ticket', context: { ...common, page_title: tr.t('form.title'), files_lost: true, problems: [{ key: 'subject' }], fields: [
        { key: 'subject', label: 'Subject', type: 'text', required: true, value: 'Printer', problem: null, suggest: true },
        { key: 'details', label: 'What happened?', type: 'textarea', required: false, value: '', problem: null, help: 'The more we know, the faster we help.' },
        { key: 'area', label: 'Area', type: 'choice', required: true, value: '', options: ['Billing', 'Hardware'], problem: tr.t('form.required') },
        { key: 'files', label: 'Screenshots', type: 'file', required: false, value: '', problem: null },
      ] } };
    case 'sign-in':
      return { page: 'sign-in', context: { ...common, member: null, page_title: tr.t('signIn.title'), next: '/tickets', email: '', methods: { password: true, magic_link: true, sso: true }, self_registration: true, providers: [{ name: 'Example SSO', url: '/tickets/sso/1/start' }] } };
    case 'error':
      return { page: 'error', context: { ...common, page_title: tr.t('error.notFound.heading'), heading: tr.t('error.notFound.heading'), message: tr.t('error.notFound.message') } };
    case 'notice':
      return { page: 'notice', context: { ...common, member: null, page_title: tr.t('reset.sent.title'), heading: tr.t('reset.sent.title'), message: tr.t('reset.sent.message', { email: 'cora@example.com' }) } };
    case 'confirm':
      return { page: 'confirm', context: { ...common, member: null, page_title: tr.t('link.confirm.magic.title', { portal: 'Acme Help' }), heading: tr.t('link.confirm.magic.title', { portal: 'Acme Help' }), message: tr.t('link.confirm.magic.message'), action: '/tickets/magic-link/sample', button: tr.t('link.confirm.magic.button') } };
    case 'access-denied':
      return { page: 'access-denied', context: { ...common, member: null, page_title: tr.t('access.denied.title'), heading: tr.t('access.denied.title'), message: tr.t('access.denied.message') } };
    case 'password-reset':
      return { page: 'password-reset', context: { ...common, member: null, page_title: tr.t('reset.title'), email: '' } };
    case 'password-set':
      return { page: 'password-set', context: { ...common, member: null, page_title: tr.t('password.title'), heading: tr.t('password.title'), notice: tr.t('password.otherDevice'), action: '/tickets/password-reset/sample', needs_current: false } };
    case 'change-email':
      return { page: 'change-email', context: { ...common, page_title: tr.t('emailChange.title'), current_email: 'cora@example.com', email: '' } };
    case 'register':
      return { page: 'register', context: { ...common, member: null, page_title: tr.t('register.title'), consent_html: '<p>We use your name and email to answer your requests.</p>', consent_label: 'I agree', name: '', email: '', consent: false } };
    case 'email-html':
    case 'email-text':
      return { page: 'email', context: {} };
  }
}

/**
 * Each portal's theme (P21, P11): the default one, or one with the portal's own templates,
 * built when they change (saving bumps the portal's updated_at, which other processes see within
 * PortalHosts' few seconds) and kept compiled. A template is checked before it is saved: it must
 * parse, and every page must render with sample data within the template limits, so the live
 * one is always the last good one. Builds and checks let other requests in between templates.
 */
export class PortalThemes {
  private readonly cache = new Map<number, { version: number; theme: Promise<Theme> }>();

  constructor(
    private readonly deps: Deps,
    readonly defaultTheme: Theme,
    private readonly hosts: PortalHosts,
    private readonly log: TemplateLog = silent,
  ) {}

  async themeFor(portal: PortalRow, db: Conn = this.deps.db): Promise<Theme> {
    const hit = this.cache.get(portal.id);
    if (hit?.version === portal.updated_at) return hit.theme;
    const theme = this.load(portal, db);
    if (this.cache.size >= 10_000) this.cache.clear();
    const entry = { version: portal.updated_at, theme };
    this.cache.set(portal.id, entry);
    // A failed read is not kept: the next request reads again.
    theme.catch(() => { if (this.cache.get(portal.id) === entry) this.cache.delete(portal.id); });
    return theme;
  }

  private async load(portal: PortalRow, db: Conn): Promise<Theme> {
    const rows = await db.selectFrom('portal_templates').select(['name', 'source']).where('portal_id', '=', portal.id).execute();
    if (rows.length === 0) return this.defaultTheme;
    try {
      return await Theme.build(undefined, { sources: Object.fromEntries(rows.map((r) => [r.name, r.source])) });
    } catch (error) {
      // Checked when saved; if a LiquidJS upgrade (or a new limit) refuses it now, the default theme serves.
      this.log.warn({ err: error, portalId: portal.id }, 'portal templates no longer build; the default theme serves the portal');
      return this.defaultTheme;
    }
  }

  /** The portal's own sources, by name. */
  async sources(portalId: number): Promise<Map<string, { source: string; updatedAt: number }>> {
    const rows = await this.deps.db.selectFrom('portal_templates').select(['name', 'source', 'updated_at']).where('portal_id', '=', portalId).execute();
    return new Map(rows.map((r) => [r.name, { source: r.source, updatedAt: r.updated_at }]));
  }

  /**
   * A theme with `name` replaced by `source` (and the portal's other templates), proven to parse
   * and to render every page with sample data within the template limits; else a 400 naming the
   * line and column.
   */
  async tryTheme(portal: PortalRow, name: TemplateName, source: string, tr: Translator): Promise<Theme> {
    const current = Object.fromEntries([...(await this.sources(portal.id))].map(([n, v]) => [n, v.source]));
    let theme: Theme;
    try {
      theme = await Theme.build(undefined, { sources: { ...current, [name]: source } });
    } catch (error) {
      throw templateError(error);
    }
    for (const each of TEMPLATE_NAMES) await renderSample(theme, portal, each, tr);
    return theme;
  }

  /**
   * An email from the portal's theme; if the portal's own template fails on this mail (or
   * reaches a template limit), the default theme's, and the failure is logged: the mail is
   * always written.
   */
  async renderEmail(portal: PortalRow, content: EmailContent, tr: Translator, db: Conn = this.deps.db): Promise<{ html: string; text: string }> {
    const theme = await this.themeFor(portal, db);
    try {
      return theme.renderEmail(portal, content, tr);
    } catch (error) {
      if (theme === this.defaultTheme) throw error;
      this.log.warn({ err: error, portalId: portal.id, kind: content.kind }, 'portal email template failed; the default theme wrote the mail');
      return this.defaultTheme.renderEmail(portal, content, tr);
    }
  }

  async save(portalId: number, name: TemplateName, source: string | null): Promise<void> {
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (tx) => {
      const portal = await tx.selectFrom('portals').select('updated_at').where('id', '=', portalId).executeTakeFirst();
      if (portal === undefined) throw errors.notFound('portal');
      await tx.deleteFrom('portal_templates').where('portal_id', '=', portalId).where('name', '=', name).execute();
      if (source !== null) await tx.insertInto('portal_templates').values({ portal_id: portalId, name, source, updated_at: now }).execute();
      // A new version of the portal: every process builds its theme again.
      await tx.updateTable('portals').set({ updated_at: Math.max(now, portal.updated_at + 1) }).where('id', '=', portalId).execute();
    });
    this.hosts.invalidate();
  }

  static defaultSource(name: TemplateName): string {
    return defaultTemplate(name);
  }
}

/** Renders one template's page (or the email) with sample data. */
export function render(theme: Theme, portal: PortalRow, name: TemplateName, tr: Translator): string {
  const { page, context } = sampleContext(name, tr);
  if (page !== 'email') return theme.render(page, portal, context, tr);
  const mail = theme.renderEmail(portal, {
    kind: 'member.reset',
    subject: tr.t('email.reset.subject', { portal: portalText(portal, tr.language).name }), heading: tr.t('email.reset.heading'), paragraphs: [tr.t('email.reset.intro', { portal: portalText(portal, tr.language).name })],
    action: { url: `https://${portal.domain ?? 'support.example.com'}/${portal.slug}/password-reset/sample`, label: tr.t('email.reset.action') }, after: [tr.t('email.reset.ignore')],
  }, tr);
  return name === 'email-text' ? mail.text : mail.html;
}

/**
 * Renders one template's page (or the email) with sample data, in a turn of the event loop of its
 * own; what fails is a 400 saying why. The clock is the one limit whose reading depends on the
 * machine: a render it stops is tried once more (its code is warm then) before the template is
 * refused, so that a busy moment or a process's first render does not refuse a good template.
 */
export async function renderSample(theme: Theme, portal: PortalRow, name: TemplateName, tr: Translator): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    await nextTurn();
    try {
      return render(theme, portal, name, tr);
    } catch (error) {
      if (!(error instanceof TemplateLimitError && error.limit === 'time' && attempt === 1)) throw templateError(error, name);
    }
  }
}
