import { createPublicKey } from 'node:crypto';
import { Ajv, type ErrorObject } from 'ajv';
import type { TSchema } from 'typebox';
import { errors, type FieldError } from '../../errors.js';
import type { OutboundClient } from '../../security/outbound.js';
import { normalizeCertificate, parseIdpMetadata } from './saml.js';
import {
  JwtSecrets, JwtSettings, OidcSecrets, OidcSettings, SamlSecrets, SamlSettings, SSO_DEFAULTS,
  type JwtSettingsT, type OidcSettingsT, type SamlSettingsT, type SsoKindT,
} from './sso.schemas.js';

const SCHEMAS: Record<SsoKindT, { settings: TSchema; secrets: TSchema }> = {
  saml: { settings: SamlSettings, secrets: SamlSecrets },
  jwt: { settings: JwtSettings, secrets: JwtSecrets },
  oidc: { settings: OidcSettings, secrets: OidcSecrets },
};

/** What an admin sends to add or change a provider. */
export interface ProviderInput {
  name?: string;
  enabled?: boolean;
  createContacts?: boolean;
  settings?: Record<string, unknown>;
  secrets?: Record<string, unknown>;
  idpMetadataXml?: string;
}

/** The settings that name an address the server itself fetches (the others are where browsers go). */
function outboundUrls(kind: SsoKindT, settings: Record<string, unknown>): Record<string, string | null> {
  if (kind === 'oidc') return { issuer: (settings as OidcSettingsT).issuer };
  if (kind === 'jwt') return { jwksUrl: (settings as JwtSettingsT).jwksUrl };
  return {};
}

/** How a JWT provider's settings fit together. */
function checkJwt(s: JwtSettingsT, problems: FieldError[]): void {
  if (s.algorithm === 'HS256') {
    if (s.publicKey !== null || s.jwksUrl !== null) problems.push({ path: '/body/settings/algorithm', message: 'HS256 uses the shared secret; remove publicKey and jwksUrl, or choose RS256 or ES256' });
    return;
  }
  if ((s.publicKey === null) === (s.jwksUrl === null)) problems.push({ path: '/body/settings/publicKey', message: `${s.algorithm} needs exactly one of publicKey and jwksUrl` });
  if (s.publicKey === null) return;
  try {
    const key = createPublicKey(s.publicKey);
    const want = s.algorithm === 'RS256' ? 'rsa' : 'ec';
    if (key.asymmetricKeyType !== want || (want === 'ec' && key.asymmetricKeyDetails?.namedCurve !== 'prime256v1')) {
      problems.push({ path: '/body/settings/publicKey', message: `must be ${s.algorithm === 'RS256' ? 'an RSA' : 'a P-256 EC'} public key for ${s.algorithm}` });
    }
  } catch {
    problems.push({ path: '/body/settings/publicKey', message: 'is not a PEM public key' });
  }
}

/** The identity provider's certificates as PEM, each checked to be one. */
function checkSaml(s: SamlSettingsT, problems: FieldError[]): void {
  s.idpCertificates = s.idpCertificates.map((pem, i) => {
    try {
      return normalizeCertificate(pem);
    } catch {
      problems.push({ path: `/body/settings/idpCertificates/${i}`, message: 'is not an X.509 certificate' });
      return pem;
    }
  });
}

/**
 * The checks of a provider's settings and secrets when an admin saves them: each kind's schema
 * (with paths under /body/settings and /body/secrets), how the values fit together, and whether
 * the server may fetch the addresses it will fetch (security/outbound.ts).
 */
export class ProviderSettingsChecker {
  private readonly ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });
  private readonly validators = new Map<TSchema, ReturnType<Ajv['compile']>>();

  constructor(private readonly outbound: OutboundClient) {}

  private check(schema: TSchema, value: unknown, prefix: string): void {
    let validate = this.validators.get(schema);
    if (validate === undefined) {
      validate = this.ajv.compile(schema);
      this.validators.set(schema, validate);
    }
    if (validate(value)) return;
    const problems = (validate.errors ?? []).map((e: ErrorObject) => {
      const missing = e.keyword === 'required' ? `/${String((e.params as { missingProperty?: string }).missingProperty)}` : '';
      const extra = e.keyword === 'additionalProperties' ? `/${String((e.params as { additionalProperty?: string }).additionalProperty)}` : '';
      return { path: `${prefix}${e.instancePath}${missing}${extra}`, message: e.keyword === 'additionalProperties' ? 'is not a setting of this kind of provider' : e.message ?? 'is invalid' };
    });
    throw errors.validation(problems);
  }

  /** The kind's settings after this change, checked as a whole. */
  settingsFor(kind: SsoKindT, current: Record<string, unknown>, input: ProviderInput): Record<string, unknown> {
    if (input.idpMetadataXml !== undefined && kind !== 'saml') throw errors.validation([{ path: '/body/idpMetadataXml', message: 'is only for SAML providers' }]);
    const fromMetadata = input.idpMetadataXml === undefined ? {} : parseIdpMetadata(input.idpMetadataXml);
    const settings = { ...SSO_DEFAULTS[kind], ...current, ...fromMetadata, ...(input.settings ?? {}) };
    this.check(SCHEMAS[kind].settings, settings, '/body/settings');
    const problems: FieldError[] = [];
    if (kind === 'saml') checkSaml(settings as SamlSettingsT, problems);
    if (kind === 'jwt') checkJwt(settings as JwtSettingsT, problems);
    for (const [name, url] of Object.entries(outboundUrls(kind, settings))) {
      const problem = url === null ? null : this.outbound.problemWith(url);
      if (problem !== null) problems.push({ path: `/body/settings/${name}`, message: problem });
    }
    if (problems.length > 0) throw errors.validation(problems);
    return settings;
  }

  /** The secrets after this change: a secret set to null is removed, one left out is kept. */
  secretsFor(kind: SsoKindT, current: Record<string, string>, input: ProviderInput, settings: Record<string, unknown>): Record<string, string> {
    this.check(SCHEMAS[kind].secrets, input.secrets ?? {}, '/body/secrets');
    const changes = Object.entries(input.secrets ?? {});
    const merged: Record<string, string> = Object.fromEntries([
      ...Object.entries(current).filter(([name]) => !changes.some(([changed]) => changed === name)),
      ...changes.filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
    ]);
    if (kind === 'jwt' && (settings as JwtSettingsT).algorithm === 'HS256' && merged.sharedSecret === undefined) {
      throw errors.validation([{ path: '/body/secrets/sharedSecret', message: 'HS256 needs a shared secret of at least 32 characters' }]);
    }
    if (kind === 'jwt' && (settings as JwtSettingsT).algorithm !== 'HS256') return Object.fromEntries(Object.entries(merged).filter(([name]) => name !== 'sharedSecret'));
    return merged;
  }
}
