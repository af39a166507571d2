import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { type Configuration } from 'oidc-provider';

/** Who signs in at the provider: its claims about them. */
export interface OidcUser {
  sub: string;
  email?: string;
  email_verified?: boolean;
  given_name?: string;
  family_name?: string;
}

export interface OidcClient {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
}

/**
 * A real OpenID provider (the `oidc-provider` package) on loopback, for tests. Signing in needs
 * no form: the interaction signs in `user` (as the test sets it) and grants the scopes asked
 * for, so a browser or a redirect-following test goes straight through, and every token is
 * the provider's own, signed with its own key.
 */
export class OidcIdp {
  user: OidcUser = { sub: 'nobody' };
  /**
   * When true, the JWKS the provider publishes holds another key (same `kid`) than the one it
   * signs ID tokens with: what a relying party sees when someone else signed the token.
   */
  publishesForeignKey = false;
  private foreignJwks = '';
  private server: Server | undefined;
  private provider: Provider | undefined;
  issuer = '';

  async start(clients: OidcClient[], options: { issuerPath?: string } = {}): Promise<this> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    this.issuer = `http://127.0.0.1:${port}${options.issuerPath ?? ''}`;
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const jwk = { ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig', kid: 'test-key' };
    const foreign = await generateKeyPair('RS256', { extractable: true });
    this.foreignJwks = JSON.stringify({ keys: [{ ...(await exportJWK(foreign.publicKey)), alg: 'RS256', use: 'sig', kid: 'test-key' }] });
    const configuration: Configuration = {
      clients: clients.map((c) => ({ ...c, response_types: ['code'], grant_types: ['authorization_code'], token_endpoint_auth_method: 'client_secret_basic' })),
      jwks: { keys: [jwk] as never },
      cookies: { keys: ['oidc-test-cookie-key-0123456789'] },
      pkce: { required: () => true },
      ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, AuthorizationCode: 60, IdToken: 600 },
      features: { devInteractions: { enabled: false } },
      claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['given_name', 'family_name', 'name'] },
      interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
      findAccount: (_ctx, sub) => ({
        accountId: sub,
        claims: () => ({ ...this.user, sub }),
      }),
    };
    const provider = new Provider(this.issuer, configuration);
    this.provider = provider;
    const callback = provider.callback();
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (req.url?.startsWith('/interaction/') === true) {
        this.interact(req, res).catch((error: unknown) => {
          res.statusCode = 500;
          res.end(String(error));
        });
        return;
      }
      if (options.issuerPath !== undefined && req.url?.startsWith(options.issuerPath) === true) req.url = req.url.slice(options.issuerPath.length) || '/';
      if (this.publishesForeignKey && req.url === '/jwks') {
        res.setHeader('content-type', 'application/jwk-set+json');
        res.end(this.foreignJwks);
        return;
      }
      void callback(req, res);
    });
    this.server = server;
    return this;
  }

  /** Signs in the current user and grants what the client asked for, with no page in between. */
  private async interact(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const provider = this.provider as Provider;
    const details = await provider.interactionDetails(req, res);
    if (details.prompt.name === 'login') {
      await provider.interactionFinished(req, res, { login: { accountId: this.user.sub } }, { mergeWithLastSubmission: false });
      return;
    }
    const clientId = String(details.params.client_id);
    const grant = details.grantId === undefined ? new provider.Grant({ accountId: String(details.session?.accountId), clientId }) : await provider.Grant.find(details.grantId);
    if (grant === undefined) throw new Error('no grant');
    grant.addOIDCScope(String(details.params.scope));
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => { resolve(); }));
  }
}

/**
 * Follows redirects at the provider with its own cookie jar, the way a browser would, until a
 * redirect leaves for `until` (our callback); returns that address.
 */
export async function followToCallback(start: string, until: string): Promise<string> {
  const jar = new Map<string, string>();
  let url = start;
  for (let hop = 0; hop < 10; hop += 1) {
    if (url.startsWith(until)) return url;
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(url, { redirect: 'manual', headers: cookie === '' ? {} : { cookie } });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair?.indexOf('=') ?? -1;
      if (pair !== undefined && eq > 0) jar.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    const location = res.headers.get('location');
    if (location === null) throw new Error(`the provider answered ${res.status} without a redirect at ${url}: ${(await res.text()).slice(0, 300)}`);
    url = new URL(location, url).href;
  }
  throw new Error('too many redirects at the provider');
}
