import * as client from 'openid-client';
import { outboundRefusalIn, type OutboundFetch } from '../../security/outbound.js';
import type { OidcSettingsT } from './sso.schemas.js';
import { SsoRefused, type RefusalCode } from './refusals.js';

/** A refused OpenID Connect callback, with the reason for the log (never for the visitor). */
export class OidcRefused extends SsoRefused {
  constructor(reason: string, code: RefusalCode = 'proof_invalid') {
    super(code, reason);
    this.name = 'OidcRefused';
  }
}

/** What a started sign-in keeps until the callback: bound to the browser by the caller. */
export interface OidcPending {
  state: string;
  nonce: string;
  codeVerifier: string;
}

export interface OidcIdentity {
  subject: string;
  email: string | null;
  emailVerified: boolean | null;
  firstName: string | null;
  lastName: string | null;
}

function claim(claims: Record<string, unknown>, name: string): string | null {
  const value = claims[name];
  return typeof value === 'string' && value !== '' && value.length <= 1000 ? value : null;
}

/** The error and what caused it, for the log: the library's messages are terse, their causes say which check failed. */
function why(error: unknown): string {
  if (!(error instanceof Error)) return 'unknown';
  const { code, cause } = error as Error & { code?: unknown; cause?: unknown };
  const detail = cause instanceof Error ? cause.message : typeof cause === 'object' && cause !== null && 'error' in cause ? String((cause).error) : undefined;
  return `${error.name}${typeof code === 'string' ? ` ${code}` : ''}: ${error.message}${detail === undefined ? '' : ` (${detail})`}`;
}

/** http only for loopback issuers, and only where private addresses are allowed (development, tests): the service refuses anything else when saved. */
function isLoopback(url: URL): boolean {
  return url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}

/** A failure as a refusal: an internal address named as such, else the given code. */
function refusal(error: unknown, prefix: string, code: 'proof_invalid' | 'provider_unavailable'): OidcRefused {
  const blocked = outboundRefusalIn(error);
  if (blocked !== undefined) return new OidcRefused(`${prefix}${blocked.message}`, 'address_not_allowed');
  return new OidcRefused(`${prefix}${why(error)}`, code);
}

/**
 * An OpenID Connect relying party on openid-client 6: discovery (the issuer in the document
 * must equal the configured one exactly), the authorization code flow with PKCE (S256), state
 * and nonce checked, the `iss` response parameter checked where the provider sends it, and the
 * ID token's signature (against the provider's JWKS: non-repudiation checks on), issuer,
 * audience, `azp`, expiry and nonce checked by the library. Every request goes through the
 * guarded outbound client.
 */
export class OidcRelyingParty {
  private config: Promise<client.Configuration> | undefined;

  constructor(
    private readonly settings: OidcSettingsT,
    private readonly clientSecret: string | null,
    readonly redirectUri: string,
    /** Seconds our clock is ahead of the system clock (tests inject a clock). */
    private readonly skewSeconds: number,
    /** Every request to the provider (discovery, token, userinfo, JWKS) goes through it: security/outbound.ts. */
    private readonly fetch: OutboundFetch,
  ) {}

  private configuration(): Promise<client.Configuration> {
    if (this.config === undefined) {
      const issuer = new URL(this.settings.issuer);
      const insecure = isLoopback(issuer);
      const auth = this.clientSecret === null ? client.None() : client.ClientSecretBasic(this.clientSecret);
      this.config = client.discovery(issuer, this.settings.clientId, { [client.clockSkew]: this.skewSeconds, [client.clockTolerance]: 30 }, auth, {
        timeout: 10,
        [client.customFetch]: this.fetch,
        execute: [
          // openid-client 6 skips the ID token's signature for tokens from the token endpoint (it
          // trusts TLS); this checks it against the provider's JWKS, as the documentation promises.
          client.enableNonRepudiationChecks,
          // Plain http to a loopback issuer only (development, tests): the settings allow nothing else.
          // eslint-disable-next-line @typescript-eslint/no-deprecated -- the library marks it deprecated to make it stand out, not for removal
          ...(insecure ? [client.allowInsecureRequests] : []),
        ],
      });
      // A failed discovery is tried again at the next sign-in, not remembered.
      this.config.catch(() => {
        this.config = undefined;
      });
    }
    return this.config;
  }

  /** The provider's authorization address for a new sign-in, and what the callback needs. */
  async start(): Promise<{ url: string; pending: OidcPending }> {
    let config: client.Configuration;
    try {
      config = await this.configuration();
    } catch (error) {
      throw refusal(error, 'discovery failed: ', 'provider_unavailable');
    }
    const pending = { state: client.randomState(), nonce: client.randomNonce(), codeVerifier: client.randomPKCECodeVerifier() };
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: this.redirectUri,
      scope: this.settings.scopes,
      response_type: 'code',
      code_challenge: await client.calculatePKCECodeChallenge(pending.codeVerifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
    });
    return { url: url.href, pending };
  }

  /** Exchanges the callback's code; every check failing throws OidcRefused. */
  async finish(callbackUrl: URL, pending: OidcPending): Promise<OidcIdentity> {
    let claims: Record<string, unknown> | undefined;
    try {
      const config = await this.configuration();
      const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
      claims = tokens.claims();
      // Many providers keep email and profile claims out of the ID token when an access token is
      // issued: then they come from the userinfo endpoint, whose subject must be the token's.
      if (claims !== undefined && typeof claims.email !== 'string' && typeof claims.sub === 'string' && tokens.access_token !== '') {
        claims = { ...(await client.fetchUserInfo(config, tokens.access_token, claims.sub)), ...claims };
      }
    } catch (error) {
      throw refusal(error, '', 'proof_invalid');
    }
    if (claims === undefined) throw new OidcRefused('no ID token');
    const subject = claim(claims, 'sub');
    if (subject === null) throw new OidcRefused('no subject');
    const name = claim(claims, 'name');
    return {
      subject,
      email: claim(claims, 'email'),
      emailVerified: typeof claims.email_verified === 'boolean' ? claims.email_verified : null,
      firstName: claim(claims, 'given_name') ?? name,
      lastName: claim(claims, 'family_name'),
    };
  }
}
