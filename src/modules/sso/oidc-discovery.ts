import { outboundRefusalIn, type OutboundClient } from '../../security/outbound.js';

/** What an OpenID Connect provider's discovery document says, for the admin to see before saving. */
export interface DiscoveryFound {
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  userinfoEndpoint: string | null;
  jwksUri: string;
  scopesSupported: string[];
  /** How many keys the provider publishes for signing ID tokens. */
  signingKeys: number;
  /** Plain sentences: what may not work although discovery did. */
  warnings: string[];
}

/** The issuer typed cannot be tried at all (not an address, not https, an internal address): the admin's input. */
export class IssuerProblem extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IssuerProblem';
  }
}

/** The provider was tried and is not usable as it is: what is wrong, in plain words. */
export class DiscoveryProblem extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DiscoveryProblem';
  }
}

/** Where openid-client looks for the document: the issuer's path, then /.well-known/openid-configuration. */
export function discoveryUrl(issuer: URL): URL {
  const url = new URL(issuer.href);
  url.pathname = `${url.pathname.replace(/\/$/, '')}/.well-known/openid-configuration`;
  url.search = '';
  url.hash = '';
  return url;
}

/** Why a request did not get an answer, in words. */
function unreachable(error: unknown, url: URL): DiscoveryProblem {
  const blocked = outboundRefusalIn(error);
  if (blocked !== undefined) return new DiscoveryProblem(`The address ${url.hostname} leads to this machine or a private network, which Portico does not contact. Use the provider’s public address.`);
  let code: unknown;
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5 && code === undefined; e = e.cause, depth += 1) code = (e as Error & { code?: unknown }).code;
  const name = error instanceof Error ? error.name : '';
  const why =
    code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? `no server is known by the name ${url.hostname}` :
    code === 'ECONNREFUSED' ? `nothing answered at ${url.host}` :
    code === 'ECONNRESET' ? `${url.host} closed the connection` :
    name === 'TimeoutError' || name === 'AbortError' || code === 'ETIMEDOUT' ? `${url.host} did not answer within 10 seconds` :
    typeof code === 'string' && /CERT|SSL|TLS|SELF_SIGNED|VERIFY/.test(code) ? `the https certificate of ${url.host} is not one Portico trusts` :
    `the connection to ${url.host} failed`;
  return new DiscoveryProblem(`Portico could not reach the provider: ${why}.`);
}

async function fetchJson(outbound: OutboundClient, url: URL, what: string): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await outbound.fetch(url, { headers: { accept: 'application/json' } });
  } catch (error) {
    throw unreachable(error, url);
  }
  if (res.status !== 200) {
    throw new DiscoveryProblem(res.status === 404
      ? `There is no ${what} at ${url.href} (the provider answered “not found”). Check the issuer address: for some providers it ends with a path, such as /realms/acme.`
      : `The provider answered ${url.href} with an error (HTTP ${res.status}) instead of its ${what}.`);
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    throw new DiscoveryProblem(`The answer at ${url.href} is not a ${what}: it is not JSON.`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new DiscoveryProblem(`The answer at ${url.href} is not a ${what}.`);
  return body as Record<string, unknown>;
}

const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' && value.length <= 2000 ? value : null);
const texts = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string').slice(0, 100) : []);

/**
 * Tries an OpenID Connect issuer as a sign-in would (oidc.ts): its discovery document through the
 * guarded outbound client, the issuer named there equal to the one typed, the addresses a
 * sign-in uses, and the keys ID tokens are signed with. Nothing is saved.
 */
export async function checkDiscovery(outbound: OutboundClient, issuerText: string, scopes: string): Promise<DiscoveryFound> {
  let issuer: URL;
  try {
    issuer = new URL(issuerText.trim());
  } catch {
    throw new IssuerProblem('This is not a web address. Write the issuer as your provider gives it, such as https://login.example.com.');
  }
  if (outbound.problemWith(issuer.href) !== null) {
    throw new IssuerProblem(issuer.protocol === 'https:'
      ? 'This address is on this machine or a private network, which Portico does not contact. Use the provider’s public address.'
      : 'Write the issuer as an https address.');
  }
  const doc = await fetchJson(outbound, discoveryUrl(issuer), 'OpenID Connect discovery document');
  const named = text(doc.issuer);
  if (named === null) throw new DiscoveryProblem('The provider’s discovery document does not say what its issuer is.');
  if (named !== issuerText.trim()) throw new DiscoveryProblem(`The provider calls itself ${named}, not ${issuerText.trim()}. Write the issuer exactly as the provider does (a slash at the end counts).`);
  const needed = { authorization_endpoint: 'the sign-in page', token_endpoint: 'the token address', jwks_uri: 'the address of its signing keys' } as const;
  for (const [key, words] of Object.entries(needed)) if (text(doc[key]) === null) throw new DiscoveryProblem(`The provider’s discovery document does not give ${words}.`);
  const found = {
    authorizationEndpoint: text(doc.authorization_endpoint) as string,
    tokenEndpoint: text(doc.token_endpoint) as string,
    jwksUri: text(doc.jwks_uri) as string,
    userinfoEndpoint: text(doc.userinfo_endpoint),
  };
  // The server itself calls these: each must be an address it may fetch.
  for (const [url, words] of [[found.tokenEndpoint, 'token address'], [found.jwksUri, 'signing keys’ address'], [found.userinfoEndpoint, 'user information address']] as const) {
    if (url !== null && outbound.problemWith(url) !== null) throw new DiscoveryProblem(`The provider’s ${words} (${url.slice(0, 200)}) is not a public https address, which Portico needs to call it.`);
  }
  const jwks = await fetchJson(outbound, new URL(found.jwksUri), 'set of signing keys');
  const signingKeys = (Array.isArray(jwks.keys) ? jwks.keys : []).filter((k): k is Record<string, unknown> => typeof k === 'object' && k !== null && (k as { use?: unknown }).use !== 'enc').length;
  if (signingKeys === 0) throw new DiscoveryProblem('The provider publishes no signing keys, so Portico could not check its ID tokens.');

  const warnings: string[] = [];
  const responseTypes = texts(doc.response_types_supported);
  if (responseTypes.length > 0 && !responseTypes.includes('code')) warnings.push('The provider does not list the authorization code flow, which Portico uses: sign-ins may fail.');
  const challenges = texts(doc.code_challenge_methods_supported);
  if (challenges.length > 0 && !challenges.includes('S256')) warnings.push('The provider does not list PKCE with S256, which Portico sends with every sign-in: sign-ins may fail.');
  const scopesSupported = texts(doc.scopes_supported);
  const missing = scopes.split(' ').filter((s) => s !== '' && scopesSupported.length > 0 && !scopesSupported.includes(s));
  if (missing.length > 0) warnings.push(`The provider does not list ${missing.length === 1 ? 'the scope' : 'the scopes'} ${missing.join(', ')}, which this provider’s settings ask for.`);
  if (found.userinfoEndpoint === null && !scopesSupported.includes('email')) warnings.push('The provider has no user information address: email addresses must come in the ID token.');
  return { issuer: named, ...found, scopesSupported, signingKeys, warnings };
}
