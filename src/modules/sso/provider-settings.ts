import { createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { Ajv } from 'ajv';
import type { TSchema } from 'typebox';
import { errors, type FieldError } from '../../errors.js';
import { describeIssues, type SchemaNode, type ValidationIssue } from '../../http/field-messages.js';
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

/** A kind's settings after a change, checked as a whole, with what the admin should know about them. */
export interface CheckedSettings {
  settings: Record<string, unknown>;
  /** Plain sentences: what was changed on the way in. */
  warnings: string[];
}

/** The settings that name an address the server itself fetches (the others are where browsers go). */
function outboundUrls(kind: SsoKindT, settings: Record<string, unknown>): Record<string, string | null> {
  if (kind === 'oidc') return { issuer: (settings as OidcSettingsT).issuer };
  if (kind === 'jwt') return { jwksUrl: (settings as JwtSettingsT).jwksUrl };
  return {};
}

type KeyCheck = { pem: string; warning: string | null } | { problem: string };

/**
 * A JWT provider's public key as SPKI PEM, of the algorithm's type. A certificate gives its
 * public key (kept in its place: tokens are not certificates, and a certificate's expiry or
 * issuer means nothing to them); a private key is refused rather than stored in settings the API
 * returns.
 */
function jwtPublicKey(pem: string, algorithm: 'RS256' | 'ES256'): KeyCheck {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) return { problem: 'This is a private key: paste only the public key or the certificate.' };
  const certificate = /-----BEGIN CERTIFICATE-----/.test(pem);
  let key: KeyObject;
  try {
    key = certificate ? new X509Certificate(pem).publicKey : createPublicKey(pem);
  } catch {
    return { problem: certificate ? 'This is not an X.509 certificate: paste the whole PEM text.' : 'This is not a PEM public key: paste the whole PEM text.' };
  }
  const want = algorithm === 'RS256' ? 'rsa' : 'ec';
  if (key.asymmetricKeyType !== want || (want === 'ec' && key.asymmetricKeyDetails?.namedCurve !== 'prime256v1')) {
    return { problem: `Paste ${algorithm === 'RS256' ? 'an RSA' : 'a P-256 EC'} public key: ${algorithm} needs one.` };
  }
  return {
    pem: key.export({ type: 'spki', format: 'pem' }).toString(),
    warning: certificate ? 'The certificate’s public key was saved in its place: tokens are checked with that key, whatever the certificate’s expiry or issuer.' : null,
  };
}

/** How a JWT provider's settings fit together; the public key made SPKI. */
function checkJwt(s: JwtSettingsT, problems: FieldError[], warnings: string[]): void {
  if (s.algorithm === 'HS256') {
    if (s.publicKey !== null || s.jwksUrl !== null) problems.push({ path: '/body/settings/algorithm', message: 'HS256 checks tokens with the shared secret: remove the public key and the JWKS address, or choose RS256 or ES256.' });
    return;
  }
  if ((s.publicKey === null) === (s.jwksUrl === null)) problems.push({ path: '/body/settings/publicKey', message: `${s.algorithm} needs a public key or a JWKS address: give exactly one of them.` });
  if (s.publicKey === null) return;
  const checked = jwtPublicKey(s.publicKey, s.algorithm);
  if ('problem' in checked) {
    problems.push({ path: '/body/settings/publicKey', message: checked.problem });
    return;
  }
  s.publicKey = checked.pem;
  if (checked.warning !== null) warnings.push(checked.warning);
}

/** The identity provider's certificates as PEM, each checked to be one. */
function checkSaml(s: SamlSettingsT, problems: FieldError[]): void {
  s.idpCertificates = s.idpCertificates.map((pem, i) => {
    try {
      return normalizeCertificate(pem);
    } catch {
      problems.push({ path: `/body/settings/idpCertificates/${i}`, message: 'This is not an X.509 certificate: paste the whole PEM text.' });
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
  private readonly ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true, verbose: true });
  private readonly validators = new Map<TSchema, ReturnType<Ajv['compile']>>();

  constructor(private readonly outbound: OutboundClient) {}

  private check(schema: TSchema, value: unknown, prefix: string): void {
    let validate = this.validators.get(schema);
    if (validate === undefined) {
      validate = this.ajv.compile(schema);
      this.validators.set(schema, validate);
    }
    if (validate(value)) return;
    throw errors.validation(describeIssues((validate.errors ?? []) as ValidationIssue[], {
      prefix,
      root: schema as unknown as SchemaNode,
      unknownField: 'Remove this: it is not a setting of this kind of provider.',
    }));
  }

  /** The kind's settings after this change, checked as a whole. */
  settingsFor(kind: SsoKindT, current: Record<string, unknown>, input: ProviderInput): CheckedSettings {
    if (input.idpMetadataXml !== undefined && kind !== 'saml') throw errors.validation([{ path: '/body/idpMetadataXml', message: 'Only a SAML provider takes metadata: leave this out.' }]);
    const fromMetadata = input.idpMetadataXml === undefined ? {} : parseIdpMetadata(input.idpMetadataXml);
    const settings = { ...SSO_DEFAULTS[kind], ...current, ...fromMetadata, ...(input.settings ?? {}) };
    this.check(SCHEMAS[kind].settings, settings, '/body/settings');
    const problems: FieldError[] = [];
    const warnings: string[] = [];
    if (kind === 'saml') checkSaml(settings as SamlSettingsT, problems);
    if (kind === 'jwt') checkJwt(settings as JwtSettingsT, problems, warnings);
    for (const [name, url] of Object.entries(outboundUrls(kind, settings))) {
      const problem = url === null ? null : this.outbound.problemWith(url);
      if (problem !== null) problems.push({ path: `/body/settings/${name}`, message: problem });
    }
    if (problems.length > 0) throw errors.validation(problems);
    return { settings, warnings };
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
      throw errors.validation([{ path: '/body/secrets/sharedSecret', message: 'Enter a shared secret of at least 32 characters: HS256 needs one.' }]);
    }
    if (kind === 'jwt' && (settings as JwtSettingsT).algorithm !== 'HS256') return Object.fromEntries(Object.entries(merged).filter(([name]) => name !== 'sharedSecret'));
    return merged;
  }
}
