import { X509Certificate } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import { SAML, ValidateInResponseTo, type CacheProvider, type Profile } from '@node-saml/node-saml';
import { DOMParser } from '@xmldom/xmldom';
import { errors } from '../../errors.js';
import type { SamlSettingsT } from './sso.schemas.js';
import { SsoRefused, type RefusalCode } from './refusals.js';

/** The largest SAMLResponse accepted, decoded. Real ones are a few kilobytes. */
export const MAX_SAML_RESPONSE_BYTES = 256 * 1024;
/** How long an AuthnRequest id waits for its response. */
export const SAML_REQUEST_TTL_MS = 10 * 60_000;
/** Clock skew allowed between the identity provider and us. */
const SKEW_MS = 60_000;

const MD = 'urn:oasis:names:tc:SAML:2.0:metadata';
const DS = 'http://www.w3.org/2000/09/xmldsig#';
const REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
const POST = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';
const TRANSIENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient';

/** A refused SAML response, with the reason for the log (never for the visitor). */
export class SamlRefused extends SsoRefused {
  constructor(reason: string, code: RefusalCode = 'proof_invalid') {
    super(code, reason);
    this.name = 'SamlRefused';
  }
}

/** XML we refuse before any parser sees it: document types (entities, XXE) and comments (NameID truncation). */
function refuseDangerousXml(xml: string): void {
  if (/<!DOCTYPE/i.test(xml) || /<!ENTITY/i.test(xml)) throw new SamlRefused('DOCTYPE or ENTITY in the document');
  if (xml.includes('<!--')) throw new SamlRefused('comments in the document');
  if (/<\?(?!xml\s)/.test(xml.replace(/^\uFEFF/, ''))) throw new SamlRefused('processing instructions in the document');
}

/** A strict parse: any error or warning refuses the document. */
function parseXml(xml: string): Document {
  const problems: string[] = [];
  let doc: Document;
  try {
    doc = parse(xml, problems);
  } catch (error) {
    throw new SamlRefused(`malformed XML (${error instanceof Error ? error.message : 'unparseable'})`);
  }
  if (problems.length > 0 || (doc.documentElement as Element | null) === null) throw new SamlRefused(`malformed XML (${problems[0] ?? 'no root'})`);
  return doc;
}

function parse(xml: string, problems: string[]): Document {
  const doc = new DOMParser({
    errorHandler: (level: string, message: unknown) => {
      problems.push(`${level}: ${String(message)}`);
    },
  }).parseFromString(xml, 'text/xml');
  return doc;
}

/**
 * XML an admin pasted (metadata), read as strictly as a response: a document type declaration,
 * entity or processing instruction refuses it before any parser sees it; so does any parse
 * error. Says which, for a sentence the admin can act on.
 */
export function readXmlSafely(xml: string): Document | 'doctype' | 'instruction' | 'malformed' {
  if (/<!DOCTYPE/i.test(xml) || /<!ENTITY/i.test(xml)) return 'doctype';
  try {
    refuseDangerousXml(xml);
    return parseXml(xml);
  } catch (error) {
    return error instanceof SamlRefused && error.message.startsWith('processing') ? 'instruction' : 'malformed';
  }
}

/** A certificate as PEM, checked to be one; the input may be bare base64 (as in metadata). */
export function normalizeCertificate(input: string): string {
  const body = input.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  const pem = `-----BEGIN CERTIFICATE-----\n${body.replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
  try {
    new X509Certificate(pem);
  } catch {
    throw new Error('not an X.509 certificate');
  }
  return pem;
}

/**
 * What an identity provider's metadata says: its entity id, its sign-in address (HTTP-Redirect
 * preferred) and its signing certificates. Metadata with a DOCTYPE is refused.
 */
export function parseIdpMetadata(xml: string): { idpEntityId: string; idpSsoUrl: string; idpCertificates: string[] } {
  const bad = (message: string) => errors.validation([{ path: '/body/idpMetadataXml', message }], 'The identity provider metadata cannot be used.');
  let doc: Document;
  try {
    refuseDangerousXml(xml.replace(/<!--[\s\S]*?-->/g, ''));
    doc = parseXml(xml);
  } catch (error) {
    const reason = error instanceof SamlRefused ? error.message : '';
    throw bad(reason.startsWith('DOCTYPE') ? 'Remove the DOCTYPE: metadata with a DOCTYPE or ENTITY declaration is refused.'
      : reason.startsWith('processing') ? 'Remove the processing instructions: metadata with them is refused.'
      : 'This is not XML: paste the metadata document as the provider gives it.');
  }
  const entities = Array.from(doc.getElementsByTagNameNS(MD, 'EntityDescriptor'));
  if (entities.length !== 1) throw bad('The metadata describes several entities: give the metadata of one identity provider.');
  const entity = entities[0] as Element;
  const idp = entity.getElementsByTagNameNS(MD, 'IDPSSODescriptor')[0];
  if (idp === undefined) throw bad('The metadata describes no identity provider (no IDPSSODescriptor element).');
  const services = Array.from(idp.getElementsByTagNameNS(MD, 'SingleSignOnService'));
  const service = services.find((s) => s.getAttribute('Binding') === REDIRECT) ?? services.find((s) => s.getAttribute('Binding') === POST);
  const location = service?.getAttribute('Location') ?? '';
  if (location === '') throw bad('The metadata names no sign-in address with the HTTP-Redirect or HTTP-POST binding (SingleSignOnService).');
  const certificates: string[] = [];
  for (const key of Array.from(idp.getElementsByTagNameNS(MD, 'KeyDescriptor'))) {
    const use = key.getAttribute('use');
    if (use !== null && use !== '' && use !== 'signing') continue;
    for (const cert of Array.from(key.getElementsByTagNameNS(DS, 'X509Certificate'))) {
      try {
        certificates.push(normalizeCertificate(cert.textContent));
      } catch {
        throw bad('A signing certificate in the metadata is not an X.509 certificate.');
      }
    }
  }
  if (certificates.length === 0) throw bad('The metadata holds no signing certificate: add the provider’s certificate.');
  return { idpEntityId: entity.getAttribute('entityID') ?? '', idpSsoUrl: location, idpCertificates: [...new Set(certificates)].slice(0, 3) };
}

/** The ID of the AuthnRequest in an HTTP-Redirect address (DEFLATE, then base64). */
function requestIdOf(url: string): string {
  const request = new URL(url).searchParams.get('SAMLRequest') ?? '';
  const xml = inflateRawSync(Buffer.from(request, 'base64')).toString('utf8');
  const id = /<(?:\w+:)?AuthnRequest\b[^>]*\sID="([^"]+)"/.exec(xml)?.[1];
  if (id === undefined) throw new Error('the AuthnRequest has no ID');
  return id;
}

export interface SamlEndpoints {
  /** Our entity id: the metadata's own address, stable for the provider. */
  entityId: string;
  acsUrl: string;
}

/** The identity a verified assertion names, with what is needed to refuse its replay. */
export interface SamlAssertion {
  subject: string;
  email: string | null;
  emailVerified: boolean | null;
  firstName: string | null;
  lastName: string | null;
  /** The identity provider's entity id (the verified Issuer): assertion ids are unique only with it. */
  issuer: string;
  assertionId: string;
  /** Until when the assertion could be presented; its id is remembered that long. */
  validUntil: number;
  /** The AuthnRequest this answers, or null when unsolicited (IdP-initiated). */
  inResponseTo: string | null;
}

function text(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  return null;
}

/** xml2js nodes of the verified assertion, as node-saml hands them over. */
type XNode = { $?: Record<string, string>; _?: string } & Record<string, unknown>;
function children(node: XNode | undefined, name: string): XNode[] {
  const value = node?.[name];
  return Array.isArray(value) ? (value as XNode[]) : [];
}

/**
 * A SAML 2.0 service provider for one identity provider of one portal, on node-saml (>= 5.1):
 * signed assertions required, only the pinned certificates trusted, Issuer, InResponseTo,
 * NotBefore / NotOnOrAfter and Audience checked by node-saml; Destination and Recipient checked
 * here against our ACS; DOCTYPE, entities, comments and oversized responses refused before
 * parsing. Replays are refused by the caller with the assertion id (SsoService).
 */
export class SamlServiceProvider {
  private readonly saml: SAML;

  constructor(
    private readonly settings: SamlSettingsT,
    readonly endpoints: SamlEndpoints,
    requests: CacheProvider,
  ) {
    this.saml = new SAML({
      callbackUrl: endpoints.acsUrl,
      issuer: endpoints.entityId,
      audience: endpoints.entityId,
      entryPoint: settings.idpSsoUrl,
      idpIssuer: settings.idpEntityId,
      idpCert: settings.idpCertificates,
      wantAssertionsSigned: true,
      wantAuthnResponseSigned: false,
      validateInResponseTo: settings.allowIdpInitiated ? ValidateInResponseTo.ifPresent : ValidateInResponseTo.always,
      requestIdExpirationPeriodMs: SAML_REQUEST_TTL_MS,
      cacheProvider: requests,
      acceptedClockSkewMs: SKEW_MS,
      maxAssertionAgeMs: 0,
      identifierFormat: null,
      disableRequestedAuthnContext: true,
      signatureAlgorithm: 'sha256',
      digestAlgorithm: 'sha256',
    });
  }

  /**
   * Where to send the browser: the provider's sign-in with a new AuthnRequest (its id kept by the
   * cache), and that id, under which the caller binds the sign-in to the browser. No RelayState
   * is sent: the response's InResponseTo names the sign-in.
   */
  async authorizeUrl(): Promise<{ url: string; requestId: string }> {
    const url = await this.saml.getAuthorizeUrlAsync('', undefined, {});
    return { url, requestId: requestIdOf(url) };
  }

  metadata(): string {
    return this.saml.generateServiceProviderMetadata(null, null);
  }

  /** Verifies a posted SAMLResponse; throws SamlRefused (with the reason) for anything short of valid. */
  async verify(samlResponse: string): Promise<SamlAssertion> {
    if (samlResponse.length > Math.ceil((MAX_SAML_RESPONSE_BYTES * 4) / 3) + 4) throw new SamlRefused('response too large');
    if (!/^[A-Za-z0-9+/=\s]+$/.test(samlResponse)) throw new SamlRefused('response is not base64');
    const xml = Buffer.from(samlResponse, 'base64').toString('utf8');
    refuseDangerousXml(xml);
    const root = parseXml(xml).documentElement;
    if (root.localName !== 'Response') throw new SamlRefused('not a Response');
    // One assertion, and nowhere else a second one to confuse a reader (signature wrapping).
    const assertions = Array.from(root.getElementsByTagNameNS('*', 'Assertion')).length + Array.from(root.getElementsByTagNameNS('*', 'EncryptedAssertion')).length;
    if (assertions !== 1) throw new SamlRefused(`${assertions} assertions in the response`);
    const destination = root.getAttribute('Destination');
    if (destination !== null && destination !== '' && destination !== this.endpoints.acsUrl) throw new SamlRefused('Destination is not our ACS');

    let profile: Profile | null;
    try {
      ({ profile } = await this.saml.validatePostResponseAsync({ SAMLResponse: samlResponse }));
    } catch (error) {
      throw new SamlRefused(error instanceof Error ? error.message : 'invalid response');
    }
    if (profile === null) throw new SamlRefused('no assertion');
    const parsed = profile.getAssertion?.() as { Assertion?: XNode } | undefined;
    const assertion = parsed?.Assertion;
    const assertionId = assertion?.$?.ID;
    if (assertion === undefined || assertionId === undefined || assertionId === '') throw new SamlRefused('assertion without an ID');

    // Every bearer confirmation names our ACS as its Recipient (node-saml does not check it).
    const confirmations = children(children(assertion, 'Subject')[0], 'SubjectConfirmation').flatMap((c) => children(c, 'SubjectConfirmationData'));
    if (confirmations.length === 0) throw new SamlRefused('no SubjectConfirmationData');
    let validUntil = 0;
    for (const data of confirmations) {
      const attributes = data.$ ?? {};
      if (attributes.Recipient !== this.endpoints.acsUrl) throw new SamlRefused('Recipient is not our ACS');
      const until = Date.parse(attributes.NotOnOrAfter ?? '');
      if (!Number.isFinite(until)) throw new SamlRefused('SubjectConfirmationData without NotOnOrAfter');
      validUntil = Math.max(validUntil, until);
    }
    const conditionsUntil = Date.parse(children(assertion, 'Conditions')[0]?.$?.NotOnOrAfter ?? '');
    if (Number.isFinite(conditionsUntil)) validUntil = Math.max(validUntil, conditionsUntil);

    if (profile.nameIDFormat === TRANSIENT) throw new SamlRefused('transient NameID: no stable subject');
    const subject = profile.nameID;
    if (typeof subject !== 'string' || subject === '' || subject.length > 500) throw new SamlRefused('no usable NameID');
    const attributes = (profile.attributes ?? {}) as Record<string, unknown>;
    const verified = text(attributes.email_verified);
    return {
      subject,
      email: text(attributes[this.settings.emailAttribute]) ?? text(profile.email) ?? (profile.nameIDFormat.endsWith(':emailAddress') ? subject : null),
      emailVerified: verified === null ? null : verified === 'true',
      firstName: text(attributes[this.settings.firstNameAttribute]),
      lastName: text(attributes[this.settings.lastNameAttribute]),
      issuer: this.settings.idpEntityId,
      assertionId,
      validUntil: validUntil + SKEW_MS,
      inResponseTo: root.getAttribute('InResponseTo') || null,
    };
  }
}
