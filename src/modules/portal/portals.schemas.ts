import { Type } from 'typebox';
import { Id, Line, Nullable, PageQuery, Timestamp } from '../../http/common-schemas.js';
import { Conditions } from '../filters/filters.js';
import { LANGUAGE_NAMES, LANGUAGES } from '../i18n/catalogue.js';
import { Translations } from '../i18n/admin-text.js';

export const SIGN_IN_METHODS = ['password', 'magic_link', 'sso'] as const;
const SignInMethod = Type.Enum([...SIGN_IN_METHODS], { description: 'password: email and password; magic_link: a one-time sign-in link by email; sso: the portal’s enabled identity providers' });
const SsoAudience = Type.Enum(['all', 'lists'], { description: 'all: anyone the identity provider signs in; lists: only contacts on ssoListIds' });
const Scope = Type.Enum(['contact', 'company'], { title: 'Ticket visibility', 'x-enum-names': { contact: 'own tickets', company: 'company tickets' }, description: 'contact: a member sees their own tickets; company: also their primary company’s' });
const Hostname = Type.String({ minLength: 1, maxLength: 253, pattern: '^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$', 'x-hint': 'Enter a host name without https:// or a port, like support.example.com.', description: 'The host the portal answers on, without scheme or port' });
const Slug = Type.String({ minLength: 1, maxLength: 60, pattern: '^[a-z0-9]+(-[a-z0-9]+)*$', 'x-hint': 'Use lower-case letters, digits and hyphens, like help-center.' });
const Language = Type.Enum([...LANGUAGES], { 'x-enum-names': LANGUAGE_NAMES, description: 'A language Portico has a catalogue for' });
const TimeZone = Type.String({ minLength: 1, maxLength: 64, description: 'An IANA time zone such as Europe/Warsaw or UTC' });
const Colour = Type.String({ pattern: '^#[0-9a-fA-F]{6}$', 'x-hint': 'Enter a colour as # and six hexadecimal digits, like #1a73e8.' });
const Url = Type.String({ maxLength: 2000, pattern: '^https://[^\\s"<>]+$', 'x-hint': 'Enter an address starting with https://.' });

export const Branding = Type.Object(
  {
    logoUrl: Type.Optional(Nullable(Url)),
    faviconUrl: Type.Optional(Nullable(Url)),
    primaryColor: Type.Optional(Nullable(Colour)),
    accentColor: Type.Optional(Nullable(Colour)),
  },
  { additionalProperties: false },
);

/** One link of the portal's navigation menu (P23): to a page of the portal (/path) or elsewhere (https). */
export const MenuItem = Type.Object(
  {
    label: Line({ maxLength: 60 }),
    url: Type.String({ minLength: 1, maxLength: 2000, pattern: '^(https://[^\\s"<>]+|/[^\\s"<>]*)$', 'x-hint': 'Enter an address starting with https://, or a path on the portal starting with /, like /support/kb.', description: 'https://… or a path on the portal host such as /support/kb' }),
  },
  { additionalProperties: false },
);

/** A portal's own text in one more language; each field falls back to the text as written. */
export const PortalTranslation = Type.Object(
  {
    name: Type.Optional(Line({ minLength: 0, maxLength: 120 })),
    title: Type.Optional(Line({ minLength: 0, maxLength: 120 })),
    consentText: Type.Optional(Type.String({ maxLength: 20000 })),
    consentLabel: Type.Optional(Line({ minLength: 0, maxLength: 300 })),
    menuLabels: Type.Optional(Type.Array(Line({ minLength: 0, maxLength: 60 }), { maxItems: 10, title: 'Menu labels', description: 'The menu’s labels in the menu’s order; an empty one shows the label as written' })),
  },
  { additionalProperties: false },
);
const PortalTranslations = Translations(PortalTranslation, 'The portal’s name, title, consent text and label, and menu labels');

export const Portal = Type.Object({
  id: Type.Integer(),
  url: Nullable(Type.String({ description: 'Where customers find the portal: its domain with the scheme and port the app is served on (none until it has a domain)' })),
  name: Type.String(),
  enabled: Type.Boolean(),
  title: Type.String(),
  domain: Nullable(Type.String()),
  slug: Type.String(),
  language: Language,
  languages: Type.Array(Language, { description: 'Every language the portal offers its visitors, the primary one first.' }),
  timeZone: Type.String({ description: 'The IANA time zone of the dates on the portal' }),
  scope: Scope,
  filters: Conditions,
  defaultInboxId: Nullable(Type.Integer()),
  showCustomStages: Type.Boolean(),
  idleTimeoutMinutes: Type.Integer(),
  signInMethods: Type.Array(SignInMethod),
  selfRegistration: Type.Boolean({ description: 'Visitors may register themselves, with consent, and verify their email' }),
  accessListIds: Type.Array(Type.Integer(), { description: 'Contact lists whose contacts are invited; when any are named, only their contacts may sign in' }),
  ssoAudience: SsoAudience,
  kbPortalLink: Type.Boolean({ description: 'The knowledge base pages on this portal’s host link to the customer’s tickets (or to signing in) in their navigation' }),
  kbInMenu: Type.Boolean({ description: 'The portal’s navigation lists the knowledge base (its home page then shows popular articles too)' }),
  formId: Nullable(Type.Integer({ description: 'The support form the portal’s “Submit a support ticket” link opens; null: no link' })),
  ssoListIds: Type.Array(Type.Integer(), { description: 'With ssoAudience lists: the contact lists whose contacts may sign in by single sign-on' }),
  consentText: Nullable(Type.String()),
  consentLabel: Nullable(Type.String()),
  branding: Type.Object({
    logoFile: Type.Optional(Type.Object({ sha256: Type.String(), contentType: Type.String() }, { description: 'The uploaded logo (POST …/logo); it wins over logoUrl' })),
    logoUrl: Type.Optional(Nullable(Type.String())),
    faviconUrl: Type.Optional(Nullable(Type.String())),
    primaryColor: Type.Optional(Nullable(Type.String())),
    accentColor: Type.Optional(Nullable(Type.String())),
  }),
  menu: Type.Array(Type.Object({ label: Type.String(), url: Type.String() }), { description: 'The navigation menu in the portal’s header' }),
  translations: PortalTranslations,
  missing: Type.Array(Type.String(), { description: 'What the portal still needs before it can be enabled.' }),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

const Settings = {
  title: Line({ maxLength: 120 }),
  domain: Nullable(Hostname),
  slug: Slug,
  language: Type.Enum([...LANGUAGES], { 'x-enum-names': LANGUAGE_NAMES, description: 'The primary language: of every page and email unless a visitor chooses another the portal offers' }),
  languages: Type.Array(Language, { uniqueItems: true, maxItems: LANGUAGES.length, description: 'The languages visitors may choose from; the primary language is always among them' }),
  timeZone: TimeZone,
  scope: Scope,
  filters: Conditions,
  defaultInboxId: Nullable(Id),
  showCustomStages: Type.Boolean(),
  idleTimeoutMinutes: Type.Integer({ minimum: 5, maximum: 60 * 24 * 30 }),
  signInMethods: Type.Array(SignInMethod, { uniqueItems: true, maxItems: 10 }),
  selfRegistration: Type.Boolean(),
  accessListIds: Type.Array(Id, { uniqueItems: true, maxItems: 50, title: 'Contact lists with access' }),
  ssoAudience: SsoAudience,
  ssoListIds: Type.Array(Id, { uniqueItems: true, maxItems: 50, title: 'Single sign-on lists' }),
  formId: Nullable(Id),
  kbPortalLink: Type.Boolean({ title: 'Link to the portal on knowledge base pages' }),
  kbInMenu: Type.Boolean({ title: 'Knowledge base in the navigation' }),
  consentText: Nullable(Type.String({ maxLength: 20000 })),
  consentLabel: Nullable(Line({ maxLength: 300 })),
  branding: Branding,
  menu: Type.Array(MenuItem, { maxItems: 10 }),
  translations: PortalTranslations,
};

export const PortalCreate = Type.Object(
  {
    name: Line({ maxLength: 120 }),
    ...Object.fromEntries(Object.entries(Settings).map(([k, v]) => [k, Type.Optional(v)])) as { [K in keyof typeof Settings]: ReturnType<typeof Type.Optional<(typeof Settings)[K]>> },
  },
  { additionalProperties: false },
);

export const PortalUpdate = Type.Object(
  {
    name: Type.Optional(Line({ maxLength: 120 })),
    enabled: Type.Optional(Type.Boolean()),
    ...Object.fromEntries(Object.entries(Settings).map(([k, v]) => [k, Type.Optional(v)])) as { [K in keyof typeof Settings]: ReturnType<typeof Type.Optional<(typeof Settings)[K]>> },
  },
  { additionalProperties: false, minProperties: 1 },
);

/** Filter rules to count tickets by, before they are saved. */
export const MatchingQuery = Type.Object({ filters: Conditions }, { additionalProperties: false });

export const Member = Type.Object({
  id: Type.Integer(),
  portalId: Type.Integer(),
  contactId: Type.Integer(),
  hasPassword: Type.Boolean(),
  disabled: Type.Boolean(),
  lastSignInAt: Nullable(Timestamp),
  createdAt: Timestamp,
});

export const MemberCreate = Type.Object(
  {
    contactId: Id,
    password: Type.Optional(Type.String({ minLength: 12, maxLength: 256, description: 'An initial password, for imports.' })),
  },
  { additionalProperties: false },
);
export const MemberUpdate = Type.Object(
  {
    disabled: Type.Optional(Type.Boolean()),
    password: Type.Optional(Type.String({ minLength: 12, maxLength: 256 })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export const MemberParams = Type.Object({ id: Id, memberId: Id }, { additionalProperties: false });
export const MembersQuery = Type.Object({ ...PageQuery }, { additionalProperties: false });
