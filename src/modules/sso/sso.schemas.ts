import { Type, type Static } from 'typebox';
import { Id, Line, Nullable, Timestamp } from '../../http/common-schemas.js';

/**
 * An https address; plain http only for loopback hosts (development and tests). Where the server
 * itself fetches the address (an OpenID Connect issuer, a JWKS), plain http and internal addresses
 * also need OUTBOUND_ALLOW_PRIVATE (SsoService, security/outbound.ts).
 */
const WebUrl = Type.String({ minLength: 8, maxLength: 2000, pattern: '^(https://[^\\s"<>]+|http://(localhost|127\\.0\\.0\\.1|\\[::1\\])(:[0-9]+)?(/[^\\s"<>]*)?)$', 'x-hint': 'Enter an address starting with https:// (plain http only for localhost, when developing).' });
const Pem = Type.String({ minLength: 100, maxLength: 20000, pattern: '-----BEGIN (CERTIFICATE|PUBLIC KEY)-----', 'x-hint': 'Paste the whole PEM text, from -----BEGIN CERTIFICATE----- (or -----BEGIN PUBLIC KEY-----) to its END line.' });

/** Whether the provider's email addresses count as verified when it does not say so itself (SAML, JWT). */
const EmailsVerified = Type.Boolean({ description: 'The provider verifies every address it asserts, so an address may link an existing contact. OpenID Connect uses the email_verified claim instead.' });

export const SamlSettings = Type.Object(
  {
    idpEntityId: Type.String({ minLength: 1, maxLength: 1000 }),
    idpSsoUrl: WebUrl,
    idpCertificates: Type.Array(Pem, { minItems: 1, maxItems: 3, description: 'The identity provider’s signing certificates (PEM); only these are trusted' }),
    allowIdpInitiated: Type.Boolean({ description: 'Accept responses the provider sends unasked (IdP-initiated sign-in)' }),
    emailsVerified: EmailsVerified,
    emailAttribute: Line({ maxLength: 300 }),
    firstNameAttribute: Line({ maxLength: 300 }),
    lastNameAttribute: Line({ maxLength: 300 }),
  },
  { additionalProperties: false },
);

export const JWT_ALGORITHMS = ['HS256', 'RS256', 'ES256'] as const;
export const JwtSettings = Type.Object(
  {
    algorithm: Type.Enum([...JWT_ALGORITHMS], { description: 'The one algorithm accepted: HS256 with the shared secret, or RS256 / ES256 with the public key or JWKS' }),
    issuer: Type.String({ minLength: 1, maxLength: 1000, description: 'The exact `iss` the company’s site puts in its tokens' }),
    audience: Type.String({ minLength: 1, maxLength: 1000, description: 'The exact `aud` the tokens must carry' }),
    loginUrl: WebUrl,
    publicKey: Nullable(Pem),
    jwksUrl: Nullable(WebUrl),
    maxAgeSeconds: Type.Integer({ minimum: 30, maximum: 3600, description: 'How old a token’s `iat` may be' }),
    emailsVerified: EmailsVerified,
    allowUnsolicited: Type.Boolean({ description: 'Accept tokens the company’s site sends unasked (no sign-in started at the portal in this browser). Risky: a visitor not signed in can be signed in as someone else (login CSRF)' }),
  },
  { additionalProperties: false },
);

export const OidcSettings = Type.Object(
  {
    issuer: WebUrl,
    clientId: Type.String({ minLength: 1, maxLength: 500 }),
    scopes: Type.String({ minLength: 6, maxLength: 500, pattern: '^openid( [\\x21\\x23-\\x5b\\x5d-\\x7e]+)*$', 'x-hint': 'Start with openid, then the other scopes separated by single spaces, like openid email profile.', description: 'Space-separated, starting with openid' }),
  },
  { additionalProperties: false },
);

export const SamlSecrets = Type.Object({}, { additionalProperties: false });
export const JwtSecrets = Type.Object({ sharedSecret: Type.Optional(Nullable(Type.String({ minLength: 32, maxLength: 1000 }))) }, { additionalProperties: false });
export const OidcSecrets = Type.Object({ clientSecret: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 1000 }))) }, { additionalProperties: false });

export type SamlSettingsT = Static<typeof SamlSettings>;
export type JwtSettingsT = Static<typeof JwtSettings>;
export type OidcSettingsT = Static<typeof OidcSettings>;
export type JwtSecretsT = { sharedSecret?: string | null };
export type OidcSecretsT = { clientSecret?: string | null };

export const SSO_KINDS = ['saml', 'jwt', 'oidc'] as const;
export type SsoKindT = (typeof SSO_KINDS)[number];

export const SSO_DEFAULTS = {
  saml: { allowIdpInitiated: false, emailsVerified: false, emailAttribute: 'email', firstNameAttribute: 'firstName', lastNameAttribute: 'lastName' },
  jwt: { maxAgeSeconds: 300, emailsVerified: false, publicKey: null, jwksUrl: null, allowUnsolicited: false },
  oidc: { scopes: 'openid email profile' },
} as const;

const common = {
  name: Line({ maxLength: 120 }),
  enabled: Type.Boolean(),
  createContacts: Type.Boolean({ description: 'A new subject with a verified email address not yet known gets a contact; otherwise only existing contacts may sign in' }),
};

/** Settings are checked against their kind's schema by the service, with paths under /body/settings. */
export const ProviderCreate = Type.Object(
  {
    kind: Type.Enum([...SSO_KINDS]),
    name: common.name,
    enabled: Type.Optional(common.enabled),
    createContacts: Type.Optional(common.createContacts),
    settings: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { maxProperties: 20 })),
    secrets: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { maxProperties: 5, description: 'Write only: sharedSecret (JWT), clientSecret (OpenID Connect)' })),
    idpMetadataXml: Type.Optional(Type.String({ minLength: 1, maxLength: 200_000, description: 'SAML: the identity provider’s metadata; fills idpEntityId, idpSsoUrl and idpCertificates' })),
  },
  { additionalProperties: false },
);

export const ProviderUpdate = Type.Object(
  {
    name: Type.Optional(common.name),
    enabled: Type.Optional(common.enabled),
    createContacts: Type.Optional(common.createContacts),
    settings: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { maxProperties: 20 })),
    secrets: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { maxProperties: 5 })),
    idpMetadataXml: Type.Optional(Type.String({ minLength: 1, maxLength: 200_000 })),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const Provider = Type.Object({
  id: Type.Integer(),
  portalId: Type.Integer(),
  kind: Type.Enum([...SSO_KINDS]),
  name: Type.String(),
  enabled: Type.Boolean(),
  createContacts: Type.Boolean(),
  settings: Type.Record(Type.String(), Type.Unknown()),
  secretsSet: Type.Array(Type.String(), { description: 'Which secrets are stored (their values are never returned)' }),
  urls: Type.Record(Type.String(), Type.String(), { description: 'What to give the identity provider: SAML metadata, ACS and entity id; the JWT and OpenID Connect callback' }),
  linkedMembers: Type.Integer({ description: 'How many members sign in through this provider (removing it removes their sign-in links)' }),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

/** A provider as saved: the same, with what the admin should know about the change. */
export const ProviderSaved = Type.Object({
  ...Provider.properties,
  warnings: Type.Array(Type.String(), { description: 'Plain sentences on what the change did beyond what was asked: a certificate’s public key kept in its place, sign-in links removed' }),
});

export const ProviderParams = Type.Object({ id: Id, providerId: Id }, { additionalProperties: false });
