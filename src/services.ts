import { join } from 'node:path';
import type { Deps } from './deps.js';
import { AccessService } from './modules/access/access.service.js';
import { MemberAuthService } from './modules/members/member-auth.service.js';
import { PortalHosts } from './modules/portal/hosts.js';
import { PortalsService } from './modules/portal/portals.service.js';
import { PreviewsService } from './modules/portal/previews.service.js';
import { PortalLogoService } from './modules/portal/logo.service.js';
import { Theme } from './modules/portal/theme.js';
import { CompaniesService, ContactsService } from './modules/contacts/contacts.service.js';
import { ListsService } from './modules/contacts/lists.service.js';
import { ConversationsService, InboxesService } from './modules/conversations/conversations.service.js';
import { HeldMessagesService } from './modules/conversations/held-messages.service.js';
import { StaffAuthService } from './modules/staff/auth.service.js';
import { StaffService } from './modules/staff/staff.service.js';
import { PipelinesService } from './modules/tickets/pipelines.service.js';
import { TicketSummaryCache } from './modules/tickets/summary-cache.js';
import { TicketsService } from './modules/tickets/tickets.service.js';
import { NewTicketService } from './modules/tickets/new-ticket.service.js';
import { TicketViewsService } from './modules/tickets/views.service.js';
import { TimelineService } from './modules/timeline/timeline.service.js';
import { FileStore } from './storage/file-store.js';
import { TranslationsService } from './modules/i18n/translations.service.js';
import { OutboxService } from './modules/mail/outbox.service.js';
import { MemberAccountService } from './modules/members/account.service.js';
import { InvitationsService } from './modules/members/invitations.service.js';
import { PortalThemes, type TemplateLog } from './modules/portal/portal-themes.js';
import { SsoService } from './modules/sso/sso.service.js';
import { InboundMailService } from './modules/mail/inbound.service.js';
import { SenderChecks } from './modules/mail/sender-checks.js';
import { ReplyNotifications } from './modules/mail/notifications.js';
import { ReplyTokens } from './modules/mail/reply-tokens.js';
import { FormsService } from './modules/forms/forms.service.js';
import { KnowledgeBaseService } from './modules/kb/kb.service.js';
import { endLostAccess } from './modules/members/access-lists.js';
import { Limits } from './security/limits.js';
import { SignInLog } from './modules/members/sign-in-log.js';
import { createOutboundClient, type OutboundClient } from './security/outbound.js';

/** Every service, built once at boot with its dependencies. */
export interface Services {
  staff: StaffService;
  staffAuth: StaffAuthService;
  timeline: TimelineService;
  lists: ListsService;
  contacts: ContactsService;
  companies: CompaniesService;
  pipelines: PipelinesService;
  tickets: TicketsService;
  /** Tickets opened through the API: their description starts the conversation. */
  newTickets: NewTicketService;
  ticketViews: TicketViewsService;
  ticketSummaries: TicketSummaryCache;
  inboxes: InboxesService;
  conversations: ConversationsService;
  heldMessages: HeldMessagesService;
  access: AccessService;
  portals: PortalsService;
  previews: PreviewsService;
  logos: PortalLogoService;
  portalHosts: PortalHosts;
  memberAuth: MemberAuthService;
  theme: Theme;
  translations: TranslationsService;
  outbox: OutboxService;
  memberAccounts: MemberAccountService;
  invitations: InvitationsService;
  themes: PortalThemes;
  /** Requests to addresses admins configure: internal networks refused (security/outbound.ts). */
  outbound: OutboundClient;
  sso: SsoService;
  inbound: InboundMailService;
  replyTokens: ReplyTokens;
  forms: FormsService;
  kb: KnowledgeBaseService;
  limits: Limits;
}

/** `log` hears of what is served instead when a portal's own template fails (the app passes its logger). */
export function buildServices(deps: Deps, log?: TemplateLog): Services {
  const timeline = new TimelineService(deps);
  const lists = new ListsService(deps);
  const pipelines = new PipelinesService(deps);
  const tickets = new TicketsService(deps, pipelines, timeline);
  const files = new FileStore(join(deps.config.dataDir, 'files'));
  const access = new AccessService(deps);
  const portalHosts = new PortalHosts(deps);
  const theme = new Theme();
  const themes = new PortalThemes(deps, theme, portalHosts, log);
  const outbox = new OutboxService(deps);
  const memberAuth = new MemberAuthService(deps, new SignInLog(deps));
  const contacts = new ContactsService(deps, lists, timeline);
  const translations = new TranslationsService(deps, portalHosts);
  const memberAccounts = new MemberAccountService(deps, outbox, themes, memberAuth, contacts);
  const invitations = new InvitationsService(deps, memberAccounts, translations);
  const outbound = createOutboundClient({ allowPrivate: deps.config.outbound.allowPrivate });
  const portals = new PortalsService(deps, access, portalHosts);
  // P10: list membership and a portal's lists decide who is invited, in the same transaction.
  // Leaving them ends sessions and voids sign-in links at once, in the same transaction.
  lists.onMembershipChange(async (tx, change) => {
    await endLostAccess(tx, deps.clock.now(), change);
    await invitations.inviteMissing(tx, change);
  });
  portals.onAccessChange(async (tx, portalId) => {
    await endLostAccess(tx, deps.clock.now(), { portalId });
    await invitations.inviteMissing(tx, { portalId });
  });
  const conversations = new ConversationsService(deps, tickets, timeline, files);
  const logos = new PortalLogoService(deps, portals, conversations, files);
  // Uploaded portal logos live in the same file store: its sweep keeps them.
  conversations.alsoKeepFiles((hashes) => logos.inUse(hashes));
  const replyTokens = new ReplyTokens(deps.config.sessionSecret);
  const notifications = new ReplyNotifications(deps, outbox, replyTokens, translations, themes);
  conversations.onStaffMessage((tx, thread, message) => notifications.staffReplied(tx, thread, message));
  return {
    previews: new PreviewsService(deps, portals),
    logos,
    staff: new StaffService(deps),
    staffAuth: new StaffAuthService(deps, outbox),
    timeline,
    lists,
    contacts,
    companies: new CompaniesService(deps, timeline),
    pipelines,
    tickets,
    newTickets: new NewTicketService(deps, tickets, conversations),
    ticketViews: new TicketViewsService(deps, () => access.ticketCatalogue()),
    ticketSummaries: new TicketSummaryCache(),
    inboxes: new InboxesService(deps),
    conversations,
    heldMessages: new HeldMessagesService(deps, contacts, tickets),
    access,
    portals,
    portalHosts,
    memberAuth,
    theme,
    translations,
    outbox,
    memberAccounts,
    invitations,
    themes,
    outbound,
    sso: new SsoService(deps, memberAuth, contacts, outbound),
    inbound: new InboundMailService(deps, files, conversations, contacts, tickets, replyTokens, new SenderChecks(deps.dns)),
    replyTokens,
    forms: new FormsService(deps, tickets, conversations),
    kb: new KnowledgeBaseService(deps),
    limits: new Limits(deps.clock),
  };
}
