import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { seedDemo } from '../../src/demo/seed.js';
import { chromiumAvailable, launchChromium } from '../helpers/browser.js';
import { OidcIdp } from '../helpers/oidc-idp.js';
import { startSamlIdp, type SamlIdp } from '../helpers/saml-idp.js';
import { axeViolations, portalOrigin, startPortalServer } from '../helpers/portal-browser.js';
import type { TestApp } from '../helpers/test-app.js';

const available = chromiumAvailable('browser tests of single sign-on');
const SECRET = 'the-company-site-shares-this-secret-0123456789';

/**
 * P12 P13 X2 in a real browser against real identity providers on loopback: the demo portal's
 * sign-in page offers SAML (samlify's IdP), OpenID Connect (oidc-provider) and JWT (a company
 * site that signs tokens); each button ends on the member's own tickets.
 */
describe.skipIf(!available)('single sign-on in a real browser', () => {
  let t: TestApp;
  let browser: Browser;
  let saml: SamlIdp;
  const oidc = new OidcIdp();
  let company: Server;
  let base = '';
  const ids = { saml: 0, oidc: 0, jwt: 0 };

  beforeAll(async () => {
    // The identity providers listen on loopback, which only OUTBOUND_ALLOW_PRIVATE lets the server reach.
    let port: number;
    ({ t, port } = await startPortalServer({ OUTBOUND_ALLOW_PRIVATE: 'true' }));
    base = portalOrigin(port);
    await seedDemo(t.app.deps);
    const s = t.app.services;
    const [portal] = await s.portals.list();
    if (portal === undefined) throw new Error('no demo portal');
    await s.portals.update(portal.id, { signInMethods: ['password', 'magic_link', 'sso'] });
    saml = await startSamlIdp({ user: { nameId: 'frank-at-acme-idp', email: 'frank@globex.example', firstName: 'Frank', lastName: 'Grimes' } });
    ids.saml = (await s.sso.create(portal.id, { kind: 'saml', name: 'Globex SAML', idpMetadataXml: saml.metadataXml, settings: { emailsVerified: true } })).row.id;
    const oidcRow = (await s.sso.create(portal.id, { kind: 'oidc', name: 'Initech ID', settings: { issuer: 'http://127.0.0.1:9/', clientId: 'portico' }, secrets: { clientSecret: 'oidc-secret-0123456789' } })).row;
    ids.oidc = oidcRow.id;
    await oidc.start([{ client_id: 'portico', client_secret: 'oidc-secret-0123456789', redirect_uris: [s.sso.urls(portal, oidcRow).redirectUri ?? ''] }]);
    await s.sso.update(portal.id, oidcRow.id, { settings: { issuer: oidc.issuer } });
    oidc.user = { sub: 'peter-123', email: 'peter@initech.example', email_verified: true };

    // The company's own site: signs whoever "is signed in there" into the portal with a JWT.
    company = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://company');
      void new SignJWT({ sub: 'alice-1', email: 'alice@umbrella.example', email_verified: true, jti: `j-${Date.now()}-${Math.random()}` })
        .setProtectedHeader({ alg: 'HS256' }).setIssuer('https://umbrella.example').setAudience('portico').setIssuedAt(new Date(t.clock.now()))
        .setExpirationTime(new Date(t.clock.now() + 120_000)).sign(new TextEncoder().encode(SECRET)).then((jwt) => {
          const target = new URL(`${base}/tickets/sso/${ids.jwt}/jwt`);
          target.searchParams.set('jwt', jwt);
          target.searchParams.set('return_to', url.searchParams.get('return_to') ?? '/tickets');
          res.writeHead(302, { location: target.href }).end();
        });
    });
    await new Promise<void>((resolve) => company.listen(0, '127.0.0.1', resolve));
    ids.jwt = (await s.sso.create(portal.id, {
      kind: 'jwt', name: 'Umbrella accounts',
      settings: { algorithm: 'HS256', issuer: 'https://umbrella.example', audience: 'portico', loginUrl: `http://127.0.0.1:${(company.address() as AddressInfo).port}/login` },
      secrets: { sharedSecret: SECRET },
    })).row.id;

    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser.close();
    await new Promise<void>((resolve) => company.close(() => { resolve(); }));
    await oidc.stop();
    await saml.close();
    await t.close();
  });

  async function signInWith(button: string, next = '/tickets'): Promise<Page> {
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await page.goto(`${base}${next}`);
    await page.waitForURL(/\/tickets\/sign-in/);
    await page.getByRole('link', { name: `Sign in with ${button}` }).click();
    await page.waitForURL(`${base}${next}`);
    return page;
  }

  test('P12 the sign-in page offers each provider, and passes an accessibility audit', async () => {
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await page.goto(`${base}/tickets/sign-in`);
    for (const name of ['Globex SAML', 'Initech ID', 'Umbrella accounts']) expect(await page.getByRole('link', { name: `Sign in with ${name}` }).count()).toBe(1);
    expect(await axeViolations(page)).toEqual([]);
    await context.close();
  });

  test('P12 SAML: through the identity provider’s signed response to the member’s own tickets', async () => {
    const page = await signInWith('Globex SAML', '/tickets/tickets?status=all');
    expect(await page.locator('.who').innerText()).toBe('Frank Grimes');
    expect(await page.locator('caption').innerText()).toMatch(/^Showing \d+ tickets?$/);
    await page.context().close();
  });

  test('X2 OpenID Connect: through the provider’s authorization code flow to the member’s own tickets', async () => {
    const page = await signInWith('Initech ID', '/tickets/tickets');
    expect(await page.locator('.who').innerText()).toBe('Peter Gibbons');
    expect(await page.locator('caption').innerText()).toMatch(/^Showing \d+ tickets?$/);
    await page.context().close();
  });

  test('P12 X2 a browser signed in as one member that signs in as another is asked first; the question passes an accessibility audit, and its button switches', async () => {
    const page = await signInWith('Globex SAML');
    expect(await page.locator('.who').innerText()).toBe('Frank Grimes');
    await page.goto(`${base}/tickets/sign-in`);
    await page.getByRole('link', { name: 'Sign in with Umbrella accounts' }).click();
    await page.getByRole('heading', { level: 1, name: 'Switch accounts?' }).waitFor();
    expect(await page.locator('.who').innerText()).toBe('Frank Grimes');
    expect(await axeViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Continue as Alice Abernathy' }).click();
    await page.waitForURL(`${base}/tickets`);
    expect(await page.locator('.who').innerText()).toBe('Alice Abernathy');
    await page.context().close();
  });

  test('P12 JWT: through the company’s own site to the member’s own tickets; a forged token shows the failure page and no session', async () => {
    const page = await signInWith('Umbrella accounts');
    expect(await page.locator('.who').innerText()).toBe('Alice Abernathy');
    await page.context().close();

    const context = await browser.newContext({ locale: 'en-US' });
    const forged = await context.newPage();
    const token = await new SignJWT({ sub: 'alice-1', email: 'alice@umbrella.example', jti: 'forged' }).setProtectedHeader({ alg: 'HS256' })
      .setIssuer('https://umbrella.example').setAudience('portico').setIssuedAt(new Date(t.clock.now())).sign(new TextEncoder().encode('not-the-secret-not-the-secret-0123'));
    const res = await forged.goto(`${base}/tickets/sso/${ids.jwt}/jwt?jwt=${token}`);
    expect(res?.status()).toBe(400);
    expect(await forged.getByRole('heading', { level: 1 }).innerText()).toBe('Single sign-on did not work');
    expect(await axeViolations(forged)).toEqual([]);
    expect((await context.cookies()).map((c) => c.name)).not.toContain('portico_member');
    await forged.goto(`${base}/tickets`);
    await forged.waitForURL(/\/tickets\/sign-in/);
    await context.close();
  });
});
