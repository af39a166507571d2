import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { SignJWT } from 'jose';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chromiumAvailable, launchChromium } from '../helpers/browser.js';
import { OidcIdp } from '../helpers/oidc-idp.js';
import { startSamlIdp, type SamlIdp } from '../helpers/saml-idp.js';
import { freePort } from '../helpers/server-process.js';
import { createStaff, createTestApp, unique, type TestApp, type TestStaff } from '../helpers/test-app.js';

const SECRET = 'portico-client-secret-0123456789';
const available = chromiumAvailable('browser tests of the single sign-on screens');
/** Where to keep screenshots of the screens at a desktop and a phone size, when set. */
const SHOTS = process.env.SCREENSHOT_DIR;
/** How long a check on the page may take to come true. */
const WAIT = { timeout: 10_000, interval: 100 };

/**
 * P12 C11 P3 X5 in a real browser: an admin adds a SAML provider from pasted metadata (samlify's
 * real IdP metadata) and a JWT provider with a generated secret, through the screens only; the
 * API then holds them as typed; a certificate that is not one is refused at its field in words;
 * removing a provider asks first; the sign-in log reads in words and filters.
 */
describe.skipIf(!available)('the single sign-on screens in a real browser', { timeout: 90_000 }, () => {
  let t: TestApp;
  let browser: Browser;
  let idp: SamlIdp;
  let port = 0;
  let app = '';

  beforeAll(async () => {
    port = await freePort();
    // The OpenID provider listens on loopback, which only OUTBOUND_ALLOW_PRIVATE lets the server reach.
    t = await createTestApp('sqlite', { PUBLIC_APP_URL: `http://localhost:${port}`, OUTBOUND_ALLOW_PRIVATE: 'true' });
    t.clock.set(Date.now());
    await t.app.listen({ host: '127.0.0.1', port });
    app = `http://localhost:${port}/app`;
    browser = await launchChromium();
    idp = await startSamlIdp();
  });
  afterAll(async () => {
    await idp.close();
    await browser.close();
    await t.close();
  });

  async function signedIn(staff: TestStaff, path: string, viewport = { width: 1280, height: 800 }): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ locale: 'en-US', viewport });
    context.setDefaultTimeout(10_000);
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/sign-in', remoteAddress: `10.89.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`, payload: { email: staff.email, password: staff.password } });
    expect(res.statusCode).toBe(200);
    const value = /portico_staff=([^;]+)/.exec(String(res.headers['set-cookie']))?.[1] ?? '';
    await context.addCookies([{ name: 'portico_staff', value, domain: 'localhost', path: '/', httpOnly: true, sameSite: 'Lax' }]);
    const page = await context.newPage();
    await page.goto(`${app}${path}`);
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    return { context, page };
  }

  async function seriousViolations(page: Page): Promise<string[]> {
    const result = await new AxeBuilder({ page }).setLegacyMode(true).options({ iframes: false }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']).analyze();
    return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
  }

  async function shoot(page: Page, name: string): Promise<void> {
    if (SHOTS === undefined) return;
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  }

  async function portal() {
    const s = t.app.services;
    const p = await s.portals.create({ name: 'Acme Help', domain: `${unique('help').toLowerCase()}.example.com`, consentText: 'We keep your name and email.', signInMethods: ['password', 'sso'] });
    await s.portals.update(p.id, { enabled: true });
    return p;
  }

  test('P12 P3 an admin adds a SAML provider from pasted metadata and a JWT provider with a generated secret through the screens; the API holds them; removing asks first', async () => {
    const p = await portal();
    const admin = await createStaff(t, { role: 'admin' });
    const { context, page } = await signedIn(admin, `/portals/${p.id}?tab=access`);
    await page.getByRole('heading', { name: 'Add a provider' }).waitFor();

    // SAML, from the identity provider's metadata pasted in.
    await page.getByLabel('Name on the sign-in button').fill('Globex SAML');
    await page.getByLabel('Identity provider metadata (XML)').fill(idp.metadataXml);
    await page.getByRole('button', { name: 'Read the metadata' }).click();
    const read = page.getByRole('status').filter({ hasText: 'Read from the metadata' });
    await read.getByText(idp.entityId).waitFor();
    await page.getByLabel('The identity provider verifies every email address it sends (so an address may link an existing contact)').check();
    await shoot(page, 'sso-saml-form-1280');
    await page.getByRole('button', { name: 'Add provider' }).click();
    const samlCard = page.getByRole('region', { name: 'Provider Globex SAML' });
    await expect.poll(() => samlCard.getByLabel('Entity id', { exact: true }).inputValue(), WAIT).toMatch(new RegExp(`/sso/\\d+/saml/metadata$`));
    await samlCard.getByRole('button', { name: 'Copy the assertion consumer service address' }).waitFor();
    await samlCard.getByRole('link', { name: 'Download our metadata' }).waitFor();

    // A certificate typed in that is not one: refused at its field, in words.
    await page.getByLabel('Name on the sign-in button').fill('Typed SAML');
    await page.getByRole('radio', { name: 'Typed in' }).check();
    await page.getByLabel('Identity provider’s entity id').fill('https://idp.example.com/metadata');
    await page.getByLabel('Identity provider’s sign-in address (SSO URL)').fill('https://idp.example.com/sso');
    await page.getByLabel('Signing certificate').fill('-----BEGIN CERTIFICATE-----\nnot really a certificate\n-----END CERTIFICATE-----');
    await page.getByRole('button', { name: 'Add provider' }).click();
    await page.getByText('This is not a certificate. Paste the whole text, from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----.').waitFor();
    await expect.poll(() => page.getByText(/must NOT|\/body\/|settings\//).count(), WAIT).toBe(0);

    // JWT, with a secret generated on the screen and copied from it.
    await page.getByText('JWT', { exact: true }).click();
    await page.getByLabel('Name on the sign-in button').fill('Company site');
    await page.getByLabel('Sign-in page on the company’s site').fill('https://www.acme.example/portal-login');
    await page.getByLabel('Issuer').fill('https://www.acme.example');
    await page.getByRole('button', { name: 'Generate a shared secret' }).click();
    const secret = (await page.getByLabel('Generated shared secret').textContent()) ?? '';
    expect(secret).toMatch(/^[A-Za-z0-9_-]{64}$/);
    await page.getByRole('button', { name: 'Copy the shared secret' }).waitFor();
    await shoot(page, 'sso-jwt-form-1280');
    await page.getByRole('button', { name: 'Add provider' }).click();
    await expect.poll(() => page.getByRole('region', { name: 'Provider Company site' }).getByLabel('Where the company’s site sends the token', { exact: true }).inputValue(), WAIT).toMatch(/\/sso\/\d+\/jwt$/);
    expect(await seriousViolations(page)).toEqual([]);
    await shoot(page, 'sso-providers-1280');

    // Read back through the API: as typed, the secret sealed and usable.
    const listed = (await t.app.inject({ method: 'GET', url: `/api/v1/portals/${p.id}/sso-providers`, headers: admin.auth })).json<{ items: { id: number; kind: string; name: string; enabled: boolean; settings: Record<string, unknown>; secretsSet: string[] }[] }>().items;
    expect(listed.map((i) => [i.kind, i.name, i.enabled])).toEqual([['saml', 'Globex SAML', true], ['jwt', 'Company site', true]]);
    expect(listed[0]?.settings).toMatchObject({ idpEntityId: idp.entityId, idpSsoUrl: idp.ssoUrl, emailsVerified: true, allowIdpInitiated: false });
    expect(listed[1]?.settings).toMatchObject({ algorithm: 'HS256', issuer: 'https://www.acme.example', audience: 'portico', loginUrl: 'https://www.acme.example/portal-login', publicKey: null, jwksUrl: null });
    expect(listed[1]?.secretsSet).toEqual(['sharedSecret']);
    const row = await t.app.services.sso.get(p.id, listed[1]?.id ?? 0);
    const token = await new SignJWT({ sub: 'u-1', jti: unique('j') }).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://www.acme.example').setAudience('portico')
      .setIssuedAt(new Date(t.clock.now())).setExpirationTime(new Date(t.clock.now() + 60_000)).sign(new TextEncoder().encode(secret));
    expect((await t.app.services.sso.jwt(row).verify(token, t.clock.now())).subject).toBe('u-1');

    // Removing asks first, naming the provider and who signs in through it.
    await page.getByRole('region', { name: 'Provider Company site' }).getByRole('button', { name: 'Remove' }).click();
    const dialog = page.getByRole('dialog', { name: 'Remove Company site?' });
    await dialog.getByText('Nobody signs in through Company site yet.', { exact: false }).waitFor();
    await shoot(page, 'sso-remove-1280');
    await dialog.getByRole('button', { name: 'Remove Company site' }).click();
    await expect.poll(() => page.getByRole('region', { name: 'Provider Company site' }).count(), WAIT).toBe(0);
    expect((await t.app.inject({ method: 'GET', url: `/api/v1/portals/${p.id}/sso-providers`, headers: admin.auth })).json<{ items: unknown[] }>().items).toHaveLength(1);
    await context.close();

    if (SHOTS !== undefined) {
      const phone = await signedIn(admin, `/portals/${p.id}?tab=access`, { width: 390, height: 844 });
      await phone.page.getByRole('region', { name: 'Provider Globex SAML' }).waitFor();
      await shoot(phone.page, 'sso-providers-390');
      await phone.context.close();
    }
  });

  test('X2 P12 an admin tries an OpenID Connect issuer on the screen, then runs a test sign-in in a new tab: the screen shows who would be signed in, and nobody is', async () => {
    const s = t.app.services;
    // The test sign-in runs on the portal's own host, which Chromium resolves here.
    for (const other of await t.app.deps.db.selectFrom('portals').select('id').where('domain', '=', 'portal.localhost').execute()) await s.portals.update(other.id, { domain: null, enabled: false });
    const p = await s.portals.create({ name: 'Acme Help', domain: 'portal.localhost', consentText: 'We keep your name and email.', signInMethods: ['password', 'sso'] });
    await s.portals.update(p.id, { enabled: true });
    const email = `${unique('olga')}@example.com`;
    await s.contacts.create({ email, firstName: 'Olga', lastName: 'Openid' });
    const admin = await createStaff(t, { role: 'admin' });
    const idps: OidcIdp[] = [];
    try {
      const { context, page } = await signedIn(admin, `/portals/${p.id}?tab=access`);
      const probe = await new OidcIdp().start([{ client_id: 'probe', client_secret: 'x'.repeat(32), redirect_uris: ['http://127.0.0.1/cb'] }]);
      idps.push(probe);
      await page.getByText('OpenID Connect', { exact: true }).click();
      await page.getByRole('textbox', { name: /^Issuer/ }).fill(`${probe.issuer}/`);
      await page.getByRole('button', { name: 'Test connection' }).click();
      await page.getByText(`The provider calls itself ${probe.issuer}, not ${probe.issuer}/.`, { exact: false }).waitFor();
      await page.getByRole('textbox', { name: /^Issuer/ }).fill(probe.issuer);
      await page.getByRole('button', { name: 'Test connection' }).click();
      await page.getByRole('status').filter({ hasText: 'The provider answered' }).getByText(`${probe.issuer}/auth`).waitFor();
      expect(await seriousViolations(page)).toEqual([]);
      await shoot(page, 'sso-oidc-form-1280');

      // A provider the identity provider knows (its redirect address needs the provider's id).
      const row = (await s.sso.create(p.id, { kind: 'oidc', name: 'Initech ID', settings: { issuer: 'http://127.0.0.1:9/', clientId: 'portico' }, secrets: { clientSecret: SECRET } })).row;
      const oidc = await new OidcIdp().start([{ client_id: 'portico', client_secret: SECRET, redirect_uris: [s.sso.urls(p, row).redirectUri ?? ''] }]);
      idps.push(oidc);
      await s.sso.update(p.id, row.id, { settings: { issuer: oidc.issuer } });
      oidc.user = { sub: 'olga-1', email, email_verified: true, given_name: 'Olga' };
      await page.reload();
      const card = page.getByRole('region', { name: 'Provider Initech ID' });
      const before = await t.app.deps.db.selectFrom('member_sessions').select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow();
      const [tab] = await Promise.all([context.waitForEvent('page'), card.getByRole('button', { name: 'Test sign-in' }).click()]);
      await tab.getByText('Test sign-in finished').waitFor();
      expect(new URL(tab.url()).hostname).toBe('portal.localhost');
      const result = card.getByRole('status').filter({ hasText: 'The sign-in works' });
      await result.getByText(`This person would be signed in as Olga Openid <${email}>.`).waitFor();
      await result.getByText('olga-1').waitFor();
      await shoot(page, 'sso-test-sign-in-1280');
      // Nobody was signed in: no session, and the tab holds no member cookie.
      const after = await t.app.deps.db.selectFrom('member_sessions').select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow();
      expect(Number(after.n)).toBe(Number(before.n));
      expect((await context.cookies(`http://portal.localhost:${port}/`)).map((c) => c.name)).not.toContain('portico_member');
      await context.close();
    } finally {
      for (const idp of idps) await idp.stop();
    }
  });

  test('C11 the sign-in log tab says who, when, how, the outcome and why in words, and filters by outcome', async () => {
    const p = await portal();
    const admin = await createStaff(t, { role: 'admin' });
    const log = t.app.services.memberAuth.log;
    const refused = `${unique('mallory')}@example.com`;
    const welcome = `${unique('wendy')}@example.com`;
    const provider = (await t.app.services.sso.create(p.id, { kind: 'saml', name: 'Globex SAML', idpMetadataXml: idp.metadataXml })).row;
    await log.record({ portalId: p.id, method: 'sso', provider: { id: provider.id, name: provider.name }, outcome: 'refused', reason: 'sso_proof_invalid', email: refused, detail: 'Invalid signature', ip: '203.0.113.9' });
    await log.record({ portalId: p.id, method: 'password', outcome: 'signed_in', reason: 'signed_in', email: welcome, ip: '203.0.113.10' });
    await log.record({ portalId: p.id, method: 'magic_link', outcome: 'denied', reason: 'not_on_access_lists', email: welcome });
    const { context, page } = await signedIn(admin, `/portals/${p.id}`);
    await page.getByRole('tab', { name: 'Sign-in log' }).click();
    const table = page.getByRole('table', { name: 'Sign-in log' });
    await expect.poll(() => table.getByRole('row').count(), WAIT).toBe(4);
    const row = table.getByRole('row').filter({ hasText: refused });
    await row.getByText('Single sign-on: Globex SAML').waitFor();
    await row.getByText('Refused').waitFor();
    await row.getByText('The identity provider’s answer failed a check (its signature, issuer, audience or time), so it proved nothing.').waitFor();
    await table.getByRole('row').filter({ hasText: 'Emailed sign-in link' }).getByText('The member is on none of the contact lists this portal is open to.').waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await shoot(page, 'sign-in-log-1280');

    await page.locator('input').and(page.getByLabel('Outcome', { exact: true })).click();
    await page.getByRole('option', { name: 'Refused', exact: true }).click();
    await expect.poll(() => table.getByRole('row').count(), WAIT).toBe(2);
    await page.locator('input').and(page.getByLabel('Outcome', { exact: true })).click();
    await page.getByRole('option', { name: 'Signed in', exact: true }).click();
    await expect.poll(() => table.getByRole('row').count(), WAIT).toBe(2);
    await table.getByText(welcome).waitFor();
    await context.close();

    if (SHOTS !== undefined) {
      const phone = await signedIn(admin, `/portals/${p.id}?tab=sign-in-log`, { width: 390, height: 844 });
      await phone.page.getByRole('table', { name: 'Sign-in log' }).waitFor();
      await shoot(phone.page, 'sign-in-log-390');
      await phone.context.close();
    }
  });
});
