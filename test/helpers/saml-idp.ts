/**
 * A real SAML 2.0 identity provider for the tests, built on samlify's IdentityProvider role.
 *
 * samlify renders and signs every response (RSA-SHA256, exclusive c14n, the key in
 * test/fixtures/saml/idp-key.pem); this file only chooses the values. It listens on loopback, so a
 * real browser can run the whole flow: the SP redirects to GET /sso with an AuthnRequest, the IdP
 * "signs in" `idp.user` at once (no login form) and answers with a page that POSTs the
 * SAMLResponse to the AuthnRequest's AssertionConsumerServiceURL.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inflateRawSync } from 'node:zlib';
import { DOMParser } from '@xmldom/xmldom';
import samlify from 'samlify';
import type { IdentityProviderInstance } from 'samlify';

/** The test-only keys and certificates of test/fixtures/saml (see its README). */
export type SamlFixture =
  | 'idp-key.pem'
  | 'idp-cert.pem'
  | 'attacker-key.pem'
  | 'attacker-cert.pem'
  | 'sp-key.pem'
  | 'sp-cert.pem';

/** Reads one of the committed test keys or certificates (PEM text). */
export function readSamlFixture(name: SamlFixture): string {
  return readFileSync(new URL(`../fixtures/saml/${name}`, import.meta.url), 'utf8');
}

export const SAML_PROTOCOL_NS = 'urn:oasis:names:tc:SAML:2.0:protocol';
export const SAML_ASSERTION_NS = 'urn:oasis:names:tc:SAML:2.0:assertion';
export const NAMEID_EMAIL = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';
const ATTRNAME_BASIC = 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic';
const AC_PASSWORD_PROTECTED = 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport';

export interface SamlUser {
  nameId: string;
  email: string;
  firstName?: string;
  lastName?: string;
  emailVerified?: boolean;
}

export interface SamlResponseOptions {
  acsUrl: string;
  spEntityId: string;
  /** The AuthnRequest's ID; omitted for an IdP-initiated (unsolicited) response. */
  inResponseTo?: string;
  /** Who signed in; the IdP's current `user` by default. */
  user?: SamlUser;
  /** Conditions NotBefore; now - 1 minute by default. */
  notBefore?: Date;
  /** Conditions and SubjectConfirmationData NotOnOrAfter; now + 5 minutes by default. */
  notOnOrAfter?: Date;
  /** AudienceRestriction/Audience; spEntityId by default. */
  audience?: string;
  /** Response Destination; acsUrl by default (SubjectConfirmationData Recipient is always acsUrl). */
  destination?: string;
  /** The IdP's clock: IssueInstant, AuthnInstant and the default validity window. */
  now?: Date;
  /** Sign the Assertion (default true). */
  signAssertion?: boolean;
  /** Sign the whole Response too (default false). At least one of the two must be signed. */
  signResponse?: boolean;
}

/** What the IdP read from an AuthnRequest that reached GET or POST /sso. */
export interface ReceivedAuthnRequest {
  id: string;
  issuer: string;
  acsUrl: string;
  relayState: string | undefined;
  /** The AuthnRequest XML as received (inflated). */
  xml: string;
}

export interface SamlIdp {
  /** The IdP's entityID, which is also its metadata URL: http://127.0.0.1:PORT/metadata. */
  entityId: string;
  /** The HTTP-Redirect SingleSignOnService: http://127.0.0.1:PORT/sso (POST is accepted there too). */
  ssoUrl: string;
  /** IdP metadata XML: entityID, SingleSignOnService (Redirect and POST), signing certificate. */
  metadataXml: string;
  /** The IdP signing certificate (PEM). */
  certificatePem: string;
  /** Who "signs in" at the IdP; tests may replace it at any time. */
  user: SamlUser;
  /** Every AuthnRequest /sso answered, oldest first. */
  requests: ReceivedAuthnRequest[];
  /** Signed SAML Response XML (not base64) for the given SP, as samlify's IdP sends it. */
  response(opts: SamlResponseOptions): Promise<string>;
  close(): Promise<void>;
}

const DEFAULT_USER: SamlUser = {
  nameId: 'user@example.com',
  email: 'user@example.com',
  firstName: 'Sam',
  lastName: 'Ell',
  emailVerified: true,
};

/**
 * samlify refuses to parse any message until a schema validator is set (it is module-wide).
 * This one is NOT an XSD validation: it only requires well-formed XML without a DOCTYPE whose root
 * is an AuthnRequest. That is acceptable here only because the test IdP parses nothing but the SP's
 * AuthnRequest with it; it never consumes a Response.
 */
function useAuthnRequestOnlyValidator(): void {
  samlify.setSchemaValidator({
    validate: (xml: string) => {
      if (/<!DOCTYPE/i.test(xml)) return Promise.reject(new Error('DOCTYPE is not allowed'));
      const errors: string[] = [];
      const doc = new DOMParser({
        errorHandler: { warning: () => undefined, error: (m) => errors.push(m), fatalError: (m) => errors.push(m) },
      }).parseFromString(xml, 'text/xml');
      const root = doc.documentElement as Element | null;
      if (errors.length > 0 || root === null) return Promise.reject(new Error(`not well-formed: ${errors.join('; ')}`));
      if (root.namespaceURI !== SAML_PROTOCOL_NS || root.localName !== 'AuthnRequest') {
        return Promise.reject(new Error(`expected an AuthnRequest, got ${root.nodeName}`));
      }
      return Promise.resolve('ok');
    },
  });
}

/** The samlify IdP entity at the given base URL. */
function createIdpEntity(baseUrl: string): IdentityProviderInstance {
  const { binding } = samlify.Constants.namespace;
  return samlify.IdentityProvider({
    entityID: `${baseUrl}/metadata`,
    privateKey: readSamlFixture('idp-key.pem'),
    signingCert: readSamlFixture('idp-cert.pem'),
    requestSignatureAlgorithm: samlify.Constants.algorithms.signature.RSA_SHA256,
    wantAuthnRequestsSigned: false,
    nameIDFormat: [NAMEID_EMAIL],
    singleSignOnService: [
      { Binding: binding.redirect, Location: `${baseUrl}/sso` },
      { Binding: binding.post, Location: `${baseUrl}/sso` },
    ],
  });
}

/** The attributes the IdP releases for `user`: name, samlify value tag, value. */
function userAttributes(user: SamlUser): { name: string; tag: string; value: string }[] {
  const attributes = [{ name: 'email', tag: 'email', value: user.email }];
  if (user.firstName !== undefined) attributes.push({ name: 'firstName', tag: 'firstname', value: user.firstName });
  if (user.lastName !== undefined) attributes.push({ name: 'lastName', tag: 'lastname', value: user.lastName });
  if (user.emailVerified !== undefined) {
    attributes.push({ name: 'email_verified', tag: 'emailverified', value: String(user.emailVerified) });
  }
  return attributes;
}

/**
 * Fills samlify's own login-response template (the one its IdP uses by default) with our values.
 * samlify's default path puts no AuthnStatement or attributes in; its attributeStatementBuilder makes
 * the AttributeStatement and `replaceTagsByValue` XML-escapes every value.
 */
function fillResponseTemplate(template: string, opts: SamlResponseOptions, user: SamlUser, issuer: string): { id: string; context: string } {
  const now = opts.now ?? new Date();
  const notOnOrAfter = (opts.notOnOrAfter ?? new Date(now.getTime() + 5 * 60_000)).toISOString();
  const attributes = userAttributes(user);
  const attributeStatement = samlify.SamlLib.attributeStatementBuilder(
    attributes.map((a) => ({ name: a.name, nameFormat: ATTRNAME_BASIC, valueXsiType: 'xs:string', valueTag: a.tag })),
  );
  const authnStatement =
    '<saml:AuthnStatement AuthnInstant="{IssueInstant}" SessionIndex="{AssertionID}"><saml:AuthnContext>' +
    `<saml:AuthnContextClassRef>${AC_PASSWORD_PROTECTED}</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>`;
  const id = `_${randomUUID()}`;
  const tags: Record<string, string | undefined> = {
    ID: id,
    AssertionID: `_${randomUUID()}`,
    Destination: opts.destination ?? opts.acsUrl,
    Audience: opts.audience ?? opts.spEntityId,
    SubjectRecipient: opts.acsUrl,
    Issuer: issuer,
    IssueInstant: now.toISOString(),
    StatusCode: samlify.Constants.StatusCode.Success,
    ConditionsNotBefore: (opts.notBefore ?? new Date(now.getTime() - 60_000)).toISOString(),
    ConditionsNotOnOrAfter: notOnOrAfter,
    SubjectConfirmationDataNotOnOrAfter: notOnOrAfter,
    NameIDFormat: NAMEID_EMAIL,
    NameID: user.nameId,
    InResponseTo: opts.inResponseTo, // undefined drops both InResponseTo attributes
  };
  for (const a of attributes) tags[`attr${a.tag.charAt(0).toUpperCase()}${a.tag.slice(1)}`] = a.value;
  const withStatements = template.replace('{AuthnStatement}', authnStatement).replace('{AttributeStatement}', attributeStatement);
  const context = samlify.SamlLib.replaceTagsByValue(withStatements, tags);
  const leftover = /\{[A-Za-z]+\}/.exec(context);
  if (leftover !== null) throw new Error(`unfilled tag ${leftover[0]} in the SAML response template`);
  return { id, context };
}

/** Builds one signed login response through samlify's IdentityProvider#createLoginResponse. */
async function signedResponse(idp: IdentityProviderInstance, opts: SamlResponseOptions, user: SamlUser): Promise<string> {
  const signAssertion = opts.signAssertion ?? true;
  const signResponse = opts.signResponse ?? false;
  if (!signAssertion && !signResponse) {
    throw new Error('sign the Assertion or the Response; stripSignatures() in saml-forge.ts makes an unsigned one');
  }
  // samlify signs the Assertion when the SP "wants assertions signed", and the Response when the SP
  // wants messages signed (or does not want assertions signed).
  const sp = samlify.ServiceProvider({
    entityID: opts.spEntityId,
    assertionConsumerService: [{ Binding: samlify.Constants.namespace.binding.post, Location: opts.acsUrl }],
    wantAssertionsSigned: signAssertion,
    wantMessageSigned: signResponse,
  });
  const issuer = idp.entityMeta.getEntityID();
  const result = await idp.createLoginResponse(sp, { extract: { request: { id: opts.inResponseTo ?? '' } } }, 'post', { email: user.email }, {
    customTagReplacement: (template) => fillResponseTemplate(template, opts, user, issuer),
  });
  return Buffer.from(result.context, 'base64').toString('utf8');
}

/** Escapes text for an HTML attribute value. */
function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&#39;');
}

/** The page that carries the SAMLResponse to the SP: an auto-submitting HTTP-POST binding form. */
function autoPostPage(acsUrl: string, samlResponse: string, relayState: string | undefined): string {
  const relay = relayState === undefined ? '' : `<input type="hidden" name="RelayState" value="${escapeHtml(relayState)}">`;
  return (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Signing in</title></head><body>' +
    `<form method="post" action="${escapeHtml(acsUrl)}">` +
    `<input type="hidden" name="SAMLResponse" value="${escapeHtml(samlResponse)}">${relay}` +
    '<noscript><button type="submit">Continue</button></noscript></form>' +
    '<script>document.forms[0].submit();</script></body></html>'
  );
}

/** Reads a small request body as text. */
async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * An HTTP-POST SAMLRequest as samlify expects it: plain base64 XML. @node-saml/node-saml DEFLATEs its
 * HTTP-POST AuthnRequest too (saml-bindings §3.5 says not to), so a deflated one is inflated first.
 */
function plainBase64Request(samlRequest: string | undefined): string | undefined {
  if (samlRequest === undefined) return undefined;
  const bytes = Buffer.from(samlRequest, 'base64');
  if (bytes.toString('utf8').trimStart().startsWith('<')) return samlRequest;
  return inflateRawSync(bytes).toString('base64');
}

/** The first value of a samlify extractor field, which may be a string or a list. */
function firstString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  return undefined;
}

/** Starts the IdP on 127.0.0.1 on a free port. */
export async function startSamlIdp(options: { user?: SamlUser } = {}): Promise<SamlIdp> {
  useAuthnRequestOnlyValidator();
  // Only the AuthnRequest is parsed with this SP: samlify's redirect/post flows need one, and since the
  // IdP does not want signed requests it checks neither a signature nor the issuer against it.
  const anySp = samlify.ServiceProvider({ entityID: 'urn:portico:test:any-sp' });

  const server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`SAML IdP: ${err instanceof Error ? err.message : String(err)}\n`);
    });
  });

  /** GET /metadata, and GET (HTTP-Redirect) or POST (HTTP-POST) /sso. */
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method === 'GET' && url.pathname === '/metadata') {
      res.writeHead(200, { 'content-type': 'application/samlmetadata+xml; charset=utf-8' });
      res.end(idp.metadataXml);
      return;
    }
    if (url.pathname !== '/sso' || (req.method !== 'GET' && req.method !== 'POST')) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found\n');
      return;
    }
    const params = req.method === 'GET' ? url.searchParams : new URLSearchParams(await readBody(req));
    const fields = Object.fromEntries(params);
    const parsed =
      req.method === 'GET'
        ? await entity.parseLoginRequest(anySp, 'redirect', { query: fields })
        : await entity.parseLoginRequest(anySp, 'post', { body: { ...fields, SAMLRequest: plainBase64Request(fields.SAMLRequest) } });
    const request = parsed.extract.request ?? {};
    const id = firstString(request.id);
    const acsUrl = firstString(request.assertionConsumerServiceUrl);
    const issuer = firstString(parsed.extract.issuer);
    if (id === undefined || acsUrl === undefined || issuer === undefined) {
      throw new Error('the AuthnRequest needs an ID, an AssertionConsumerServiceURL and an Issuer');
    }
    const relayState = params.get('RelayState') ?? undefined;
    idp.requests.push({ id, issuer, acsUrl, relayState, xml: parsed.samlContent });
    const xml = await idp.response({ acsUrl, spEntityId: issuer, inResponseTo: id });
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(autoPostPage(acsUrl, Buffer.from(xml, 'utf8').toString('base64'), relayState));
  }

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const entity = createIdpEntity(baseUrl); // handle() runs only after this, once requests arrive

  const idp: SamlIdp = {
    entityId: `${baseUrl}/metadata`,
    ssoUrl: `${baseUrl}/sso`,
    metadataXml: entity.getMetadata(),
    certificatePem: readSamlFixture('idp-cert.pem'),
    user: options.user ?? { ...DEFAULT_USER },
    requests: [],
    response: (opts) => signedResponse(entity, opts, opts.user ?? idp.user),
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
  return idp;
}
