import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

/** Table types. Times are integer milliseconds since the epoch (UTC); flags are 0/1; JSON is text. */
export interface StaffUsersTable {
  id: Generated<number>;
  email: string;
  email_key: string;
  name: string;
  role: 'admin' | 'agent';
  permissions: Generated<string>;
  password_hash: string | null;
  failed_sign_ins: Generated<number>;
  locked_until: number | null;
  disabled_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface StaffSessionsTable {
  id_hash: string;
  staff_user_id: number;
  csrf_token: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  ip: string | null;
  user_agent: string | null;
}

export interface StaffPasswordResetsTable {
  token_hash: string;
  staff_user_id: number;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface ApiTokensTable {
  id: Generated<number>;
  staff_user_id: number;
  name: string;
  token_hash: string;
  token_prefix: string;
  created_at: number;
  last_used_at: number | null;
  expires_at: number | null;
  revoked_at: number | null;
}

export interface CompaniesTable {
  id: Generated<number>;
  name: string;
  domain: string | null;
  created_at: number;
  updated_at: number;
}

export interface ContactsTable {
  id: Generated<number>;
  email: string;
  email_key: string;
  first_name: string | null;
  last_name: string | null;
  phone: string | null;
  primary_company_id: number | null;
  created_at: number;
  updated_at: number;
}

export interface ContactCompaniesTable {
  contact_id: number;
  company_id: number;
  created_at: number;
}

export interface ContactListsTable {
  id: Generated<number>;
  name: string;
  kind: 'static' | 'active';
  filters: string | null;
  created_at: number;
  updated_at: number;
}

export interface ListMembersTable {
  list_id: number;
  contact_id: number;
  added_at: number;
}

export interface PipelinesTable {
  id: Generated<number>;
  name: string;
  position: number;
  created_at: number;
  updated_at: number;
}

export interface StagesTable {
  id: Generated<number>;
  pipeline_id: number;
  name: string;
  position: number;
  state: 'open' | 'closed';
  /** Translations of the text customers read, JSON by language then field (modules/i18n/admin-text.ts); null: none. */
  translations: string | null;
  created_at: number;
  updated_at: number;
}

export type TicketPropertyType = 'text' | 'number' | 'boolean' | 'date' | 'enumeration';

export interface TicketPropertiesTable {
  id: Generated<number>;
  key: string;
  label: string;
  type: TicketPropertyType;
  options: string | null;
  created_at: number;
  updated_at: number;
}

export interface TicketsTable {
  id: Generated<number>;
  subject: string;
  description: string | null;
  pipeline_id: number;
  stage_id: number;
  is_closed: number;
  priority: string | null;
  category: string | null;
  source: string;
  owner_id: number | null;
  properties: Generated<string>;
  revision: Generated<number>;
  created_at: number;
  updated_at: number;
  last_activity_at: number;
  closed_at: number | null;
  /** 1 while the mail that opened it waits for staff to accept it: hidden from the portal. */
  held: Generated<number>;
}

export interface TicketContactsTable {
  ticket_id: number;
  contact_id: number;
  last_activity_at: number;
  ticket_revision: Generated<number>;
}

export interface TicketCompaniesTable {
  ticket_id: number;
  company_id: number;
  last_activity_at: number;
  ticket_revision: Generated<number>;
}

export interface InboxesTable {
  id: Generated<number>;
  name: string;
  /** Mail (and forms) arriving here open a ticket with the thread (C6). */
  creates_tickets: Generated<number>;
  /** The pipeline of those tickets; null: the first pipeline. */
  pipeline_id: Generated<number | null>;
  created_at: number;
  updated_at: number;
}

export type ChannelType = 'email' | 'form' | 'chat' | 'portal';

export interface ChannelsTable {
  id: Generated<number>;
  inbox_id: number;
  type: ChannelType;
  name: string;
  address: string | null;
  address_key: string | null;
  /** An email channel's IMAP mailbox to poll, as JSON (host, port, secure, user, mailbox). */
  imap_settings: Generated<string | null>;
  /** Its password, sealed (security/sealed.ts). */
  imap_secret: Generated<string | null>;
  created_at: number;
  updated_at: number;
}

export interface ThreadsTable {
  id: Generated<number>;
  inbox_id: number;
  channel_id: number | null;
  ticket_id: number | null;
  contact_id: number | null;
  subject: string;
  status: 'open' | 'closed';
  assignee_id: number | null;
  created_at: number;
  updated_at: number;
  last_message_at: number;
}

export interface MessagesTable {
  id: Generated<number>;
  thread_id: number;
  kind: 'message' | 'comment';
  author_type: 'customer' | 'staff' | 'system';
  contact_id: number | null;
  staff_user_id: number | null;
  body_text: string;
  body_html: string | null;
  created_at: number;
  /** The sender checks of a message that came by mail (JSON `SenderVerdict`); null otherwise. */
  authentication: string | null;
  /** 1 while its sender is unverified and no staff member has accepted it: hidden from the portal. */
  held: Generated<number>;
  accepted_at: number | null;
  accepted_by_staff_id: number | null;
}

export interface AttachmentsTable {
  id: Generated<number>;
  message_id: number | null;
  sha256: string;
  size: number;
  filename: string;
  content_type: string;
  uploaded_by_staff_id: number | null;
  created_at: number;
}

export interface EngagementsTable {
  id: Generated<number>;
  type: string;
  occurred_at: number;
  title: string;
  body: string | null;
  ticket_id: number | null;
  thread_id: number | null;
  message_id: number | null;
  staff_user_id: number | null;
  created_at: number;
}

export type TargetType = 'contact' | 'company' | 'ticket';

export interface EngagementTargetsTable {
  engagement_id: number;
  target_type: TargetType;
  target_id: number;
  occurred_at: number;
}

/** How a sign-in was attempted, and how it ended (C11). */
export type SignInMethod = 'password' | 'magic_link' | 'invitation' | 'reset' | 'verify' | 'sso';
export type SignInOutcome = 'signed_in' | 'refused' | 'denied';

/** One sign-in or refusal on a portal (C11): what admins read in its sign-in log. */
export interface SignInEventsTable {
  id: Generated<number>;
  portal_id: number;
  occurred_at: number;
  method: SignInMethod;
  provider_id: number | null;
  provider_name: string | null;
  email: string | null;
  subject: string | null;
  member_id: number | null;
  outcome: SignInOutcome;
  reason: string;
  detail: string | null;
  ip: string | null;
  user_agent: string | null;
}

/** A staff member's look at a portal as one of its members (P28, P30). */
export interface PortalPreviewsTable {
  id: Generated<number>;
  portal_id: number;
  member_id: number;
  staff_user_id: number;
  link_hash: string;
  link_expires_at: number;
  opened_at: number | null;
  session_hash: string | null;
  session_expires_at: number | null;
  created_at: number;
}

export interface PortalsTable {
  id: Generated<number>;
  name: string;
  enabled: Generated<number>;
  title: string;
  domain: string | null;
  slug: string;
  language: string;
  scope: 'contact' | 'company';
  filters: Generated<string>;
  default_inbox_id: number | null;
  show_custom_stages: Generated<number>;
  idle_timeout_minutes: number;
  sign_in_methods: Generated<string>;
  consent_text: string | null;
  consent_label: string | null;
  branding: Generated<string>;
  /** Languages offered besides the primary one, as a JSON array of codes (X1). */
  languages: Generated<string>;
  /** IANA time zone of the portal's dates. */
  time_zone: Generated<string>;
  /** Visitors may register themselves (P9). */
  self_registration: Generated<number>;
  /** P13: who may sign in by single sign-on: everyone, or contacts on the portal's SSO lists. */
  sso_audience: Generated<'all' | 'lists'>;
  /** The support form the portal's "Submit a support ticket" link opens (P25). */
  form_id: Generated<number | null>;
  /** The knowledge base pages on this portal's host link to the portal (its tickets, or signing in) (P24). */
  kb_portal_link: Generated<number>;
  /** The portal's navigation lists the knowledge base. */
  kb_in_menu: Generated<number>;
  /** The navigation menu (P23): JSON [{label, url}]. */
  menu: Generated<string>;
  /** Translations of the text customers read, JSON by language then field (modules/i18n/admin-text.ts); null: none. */
  translations: string | null;
  created_at: number;
  updated_at: number;
}

/** An admin's replacement for one catalogue message, per portal and language. */
export interface PortalMessagesTable {
  portal_id: number;
  language: string;
  key: string;
  message: string;
  updated_at: number;
}

export interface MembersTable {
  id: Generated<number>;
  portal_id: number;
  contact_id: number;
  password_hash: string | null;
  failed_sign_ins: Generated<number>;
  locked_until: number | null;
  last_sign_in_at: number | null;
  disabled_at: number | null;
  /** The member's saved language, when they chose one on the portal. */
  language: string | null;
  /** When the member proved the email address (registration link); null until then. */
  verified_at: number | null;
  created_at: number;
  updated_at: number;
}

export type OutboxStatus = 'queued' | 'sending' | 'sent' | 'failed';

/** One email on its way out (modules/mail). */
export interface OutboxTable {
  id: Generated<number>;
  message_id: string;
  kind: string;
  portal_id: number | null;
  to_address: string;
  to_name: string | null;
  from_address: string;
  from_name: string | null;
  subject: string;
  text_body: string;
  html_body: string | null;
  status: OutboxStatus;
  attempts: Generated<number>;
  next_attempt_at: number;
  claimed_until: number | null;
  last_error: string | null;
  created_at: number;
  sent_at: number | null;
  /** The Message-ID this mail answers, and the thread's earlier ones (space-separated). */
  in_reply_to: Generated<string | null>;
  reference_ids: Generated<string | null>;
  /** Where answers go (a staff reply: its inbox's address). */
  reply_to_address: Generated<string | null>;
  reply_to_name: Generated<string | null>;
}

/** A support form (C7): its fields as JSON (forms/forms.service.ts FormField). */
export interface FormsTable {
  id: Generated<number>;
  name: string;
  inbox_id: number;
  fields: string;
  /** Translations of the text customers read, JSON by language then field (modules/i18n/admin-text.ts); null: none. */
  translations: string | null;
  created_at: number;
  updated_at: number;
}

/** A saved view of the staff ticket list (C10): shared (no staff user) or one staff member's own. */
export interface TicketViewsTable {
  id: Generated<number>;
  name: string;
  staff_user_id: number | null;
  built_in: Generated<number>;
  /** JSON: TicketViewFilters. */
  filters: string;
  sort: string | null;
  /** JSON: the columns, in order; null for the default set. */
  columns: string | null;
  created_by_staff_id: number | null;
  created_at: number;
  updated_at: number;
}

/** A knowledge base category (C8). */
export interface KbCategoriesTable {
  id: Generated<number>;
  name: string;
  slug: string;
  description: string | null;
  position: Generated<number>;
  /** Translations of the text customers read, JSON by language then field (modules/i18n/admin-text.ts); null: none. */
  translations: string | null;
  created_at: number;
  updated_at: number;
}

/** A knowledge base article: Markdown as written, HTML sanitised when saved, a search document. */
export interface KbArticlesTable {
  id: Generated<number>;
  category_id: number;
  title: string;
  slug: string;
  body_markdown: string;
  body_html: string;
  search_doc: string;
  published: Generated<number>;
  /** Times read on a portal: the help-center home's popular articles. */
  views: Generated<number>;
  /** Translations of the text customers read, JSON by language then field (modules/i18n/admin-text.ts); null: none. */
  translations: string | null;
  created_at: number;
  updated_at: number;
}

export type InboundStatus = 'received' | 'processed' | 'ignored' | 'failed';

/** One email received (SMTP or IMAP): its raw bytes are in the file store under raw_sha256. */
export interface InboundMailTable {
  id: Generated<number>;
  dedupe_key: string;
  message_id: string | null;
  channel_id: number | null;
  source: 'smtp' | 'imap';
  envelope_from: string | null;
  recipients: string;
  raw_sha256: string;
  raw_size: number;
  subject: string | null;
  from_address: string | null;
  status: InboundStatus;
  reason: string | null;
  attempts: Generated<number>;
  thread_id: number | null;
  message_row_id: number | null;
  received_at: number;
  processed_at: number | null;
  /** The connection a mail came on (SMTP only): the client's address and HELO name. */
  client_ip: string | null;
  helo: string | null;
  /** An earlier mail with the same Message-ID but other content (this one was kept as its own). */
  duplicate_of: Generated<number | null>;
  /** The sender checks (JSON `SenderVerdict`), once made. */
  authentication: string | null;
}

export type TokenPurpose = 'verify' | 'invite' | 'reset' | 'magic' | 'email';

/** A member's one-time link: only its sha256 is kept. */
export interface OneTimeTokensTable {
  token_hash: string;
  purpose: TokenPurpose;
  portal_id: number;
  member_id: number;
  payload: string | null;
  expires_at: number;
  used_at: number | null;
  created_at: number;
}

/** A consent a member gave (or refused) to the portal's notice, as it was worded then (P29). */
export interface ConsentsTable {
  id: Generated<number>;
  portal_id: number;
  member_id: number;
  version: string;
  notice: string;
  label: string;
  accepted: number;
  ip: string | null;
  created_at: number;
}

/** A contact list whose contacts are invited to a portal, and outside which nobody may sign in (P10). */
export interface PortalAccessListsTable {
  portal_id: number;
  list_id: number;
}

/** A portal's own source of one theme template (P21). */
export interface PortalTemplatesTable {
  portal_id: number;
  name: string;
  source: string;
  updated_at: number;
}

export type SsoKind = 'saml' | 'jwt' | 'oidc';

/** An identity provider of one portal (modules/sso). */
export interface SsoProvidersTable {
  id: Generated<number>;
  portal_id: number;
  kind: SsoKind;
  name: string;
  enabled: Generated<number>;
  /** JSON of the kind's public settings. */
  settings: string;
  /** JSON of the kind's secrets, sealed (security/sealed.ts); never returned by the API. */
  secrets: string | null;
  create_contacts: Generated<number>;
  created_at: number;
  updated_at: number;
}

/** A member as a provider knows them: (provider, subject), never an email alone. */
export interface MemberIdentitiesTable {
  id: Generated<number>;
  provider_id: number;
  subject: string;
  member_id: number;
  email: string | null;
  linked_by: 'email' | 'created';
  created_at: number;
  last_sign_in_at: number | null;
}

/** A single sign-on in flight (SAML request id, OpenID Connect state). */
export interface SsoFlowsTable {
  key: string;
  provider_id: number;
  browser_hash: string | null;
  payload: string;
  expires_at: number;
}

/**
 * An assertion id or `jti` already used, until it would have expired anyway: keyed by the hash
 * of its issuer and id, whichever provider saw it.
 */
export interface SsoReplaysTable {
  key: string;
  expires_at: number;
}

/** P13: the contact lists whose contacts may sign in by SSO, when the audience is 'lists'. */
export interface PortalSsoListsTable {
  portal_id: number;
  list_id: number;
}

export interface MemberSessionsTable {
  id_hash: string;
  member_id: number;
  portal_id: number;
  csrf_token: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  ip: string | null;
  user_agent: string | null;
}

/** One search document per ticket (src/util/search-text.ts); the full-text index over it is the database's own. */
export interface TicketSearchTable {
  ticket_id: number;
  doc: string;
}

export interface DB {
  staff_users: StaffUsersTable;
  staff_sessions: StaffSessionsTable;
  staff_password_resets: StaffPasswordResetsTable;
  api_tokens: ApiTokensTable;
  companies: CompaniesTable;
  contacts: ContactsTable;
  contact_companies: ContactCompaniesTable;
  contact_lists: ContactListsTable;
  list_members: ListMembersTable;
  pipelines: PipelinesTable;
  stages: StagesTable;
  ticket_properties: TicketPropertiesTable;
  tickets: TicketsTable;
  ticket_contacts: TicketContactsTable;
  ticket_companies: TicketCompaniesTable;
  inboxes: InboxesTable;
  channels: ChannelsTable;
  threads: ThreadsTable;
  messages: MessagesTable;
  attachments: AttachmentsTable;
  engagements: EngagementsTable;
  engagement_targets: EngagementTargetsTable;
  portals: PortalsTable;
  members: MembersTable;
  portal_messages: PortalMessagesTable;
  outbox: OutboxTable;
  inbound_mail: InboundMailTable;
  forms: FormsTable;
  ticket_views: TicketViewsTable;
  portal_previews: PortalPreviewsTable;
  sign_in_events: SignInEventsTable;
  kb_categories: KbCategoriesTable;
  kb_articles: KbArticlesTable;
  one_time_tokens: OneTimeTokensTable;
  consents: ConsentsTable;
  portal_access_lists: PortalAccessListsTable;
  portal_templates: PortalTemplatesTable;
  member_sessions: MemberSessionsTable;
  sso_providers: SsoProvidersTable;
  member_identities: MemberIdentitiesTable;
  sso_flows: SsoFlowsTable;
  sso_replays: SsoReplaysTable;
  portal_sso_lists: PortalSsoListsTable;
  ticket_search: TicketSearchTable;
}

export type Row<T extends keyof DB> = Selectable<DB[T]>;
export type NewRow<T extends keyof DB> = Insertable<DB[T]>;
export type RowUpdate<T extends keyof DB> = Updateable<DB[T]>;
