import type { Deps } from './deps.js';
import type { App } from './http/types.js';
import { contactsRoutes } from './modules/contacts/contacts.routes.js';
import { listsRoutes } from './modules/contacts/lists.routes.js';
import { conversationsRoutes } from './modules/conversations/conversations.routes.js';
import type { Metrics } from './modules/ops/metrics.js';
import { openApiRoutes } from './modules/ops/openapi.routes.js';
import { opsRoutes } from './modules/ops/ops.routes.js';
import { pagesRoutes } from './modules/portal/pages.routes.js';
import { translationsRoutes } from './modules/i18n/translations.routes.js';
import { outboxRoutes } from './modules/mail/outbox.routes.js';
import { inboundRoutes } from './modules/mail/inbound.routes.js';
import { templatesRoutes } from './modules/portal/templates.routes.js';
import { portalsRoutes } from './modules/portal/portals.routes.js';
import { signInLogRoutes } from './modules/portal/sign-in-log.routes.js';
import { ssoRoutes } from './modules/sso/sso.routes.js';
import { ssoToolRoutes } from './modules/sso/sso-tools.routes.js';
import { formsRoutes } from './modules/forms/forms.routes.js';
import { kbRoutes } from './modules/kb/kb.routes.js';
import { filtersRoutes } from './modules/filters/filters.routes.js';
import { webRoutes } from './modules/web/web.routes.js';
import { authRoutes } from './modules/staff/auth.routes.js';
import { staffRoutes } from './modules/staff/staff.routes.js';
import { pipelinesRoutes } from './modules/tickets/pipelines.routes.js';
import { ticketsRoutes } from './modules/tickets/tickets.routes.js';
import { ticketViewsRoutes } from './modules/tickets/views.routes.js';
import type { Services } from './services.js';

/** The route table. Every route declares `config.access`; see http/auth.ts. */
export function registerRoutes(app: App, deps: Deps, s: Services, metrics: Metrics): void {
  opsRoutes(app, { deps, metrics });
  openApiRoutes(app);
  authRoutes(app, { auth: s.staffAuth, config: deps.config });
  staffRoutes(app, { deps, staff: s.staff, auth: s.staffAuth });
  contactsRoutes(app, { deps, contacts: s.contacts, companies: s.companies, lists: s.lists, timeline: s.timeline });
  listsRoutes(app, { deps, lists: s.lists });
  pipelinesRoutes(app, { pipelines: s.pipelines });
  ticketsRoutes(app, { deps, tickets: s.tickets, newTickets: s.newTickets, timeline: s.timeline, summaries: s.ticketSummaries, access: s.access });
  ticketViewsRoutes(app, { views: s.ticketViews });
  conversationsRoutes(app, { deps, inboxes: s.inboxes, conversations: s.conversations, contacts: s.contacts, heldMessages: s.heldMessages });
  portalsRoutes(app, { portals: s.portals, invitations: s.invitations, previews: s.previews, logos: s.logos });
  translationsRoutes(app, { translations: s.translations, portals: s.portals });
  signInLogRoutes(app, { log: s.memberAuth.log, portals: s.portals });
  outboxRoutes(app, { outbox: s.outbox });
  inboundRoutes(app, { inbound: s.inbound });
  templatesRoutes(app, { portals: s.portals, themes: s.themes, translations: s.translations });
  ssoRoutes(app, { sso: s.sso, portals: s.portals });
  ssoToolRoutes(app, { sso: s.sso, portals: s.portals });
  formsRoutes(app, { forms: s.forms });
  kbRoutes(app, { kb: s.kb });
  filtersRoutes(app, { access: s.access });
  // The staff app (static files) in its own context, where @fastify/static decorates replies.
  void app.register(webRoutes, { portalCss: s.theme.css });
  // Portal pages live in their own context: only there are urlencoded form bodies parsed.
  void app.register(async (scope) => {
    await pagesRoutes(scope, { deps, theme: s.theme, access: s.access, members: s.memberAuth, conversations: s.conversations, translations: s.translations, themes: s.themes, account: s.memberAccounts, sso: s.sso, forms: s.forms, kb: s.kb, previews: s.previews, logos: s.logos });
  });
}
