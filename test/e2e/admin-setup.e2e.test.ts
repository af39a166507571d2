import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chromiumAvailable, launchChromium } from '../helpers/browser.js';
import { startSamlIdp, type SamlIdp } from '../helpers/saml-idp.js';
import { freePort } from '../helpers/server-process.js';
import { createStaff, createTestApp, unique, type TestApp } from '../helpers/test-app.js';

const available = chromiumAvailable('the browser test of a new admin setting up a portal');
const WAIT = { timeout: 10_000, interval: 100 };

/**
 * P4-P39 C4 in a real browser: a new admin signs in through the form and sets up a customer
 * portal section by section as the source document describes it, through the screens only (the
 * test reads back through the API, and makes the data a help desk already has: a contact, a
 * list, a pipeline). Every value is picked by its name; nothing on screen shows an id.
 */
describe.skipIf(!available)('a new admin sets up a portal through the screens', { timeout: 240_000 }, () => {
  let t: TestApp;
  let browser: Browser;
  let idp: SamlIdp;
  let port = 0;
  let app = '';

  beforeAll(async () => {
    port = await freePort();
    t = await createTestApp('sqlite', { PUBLIC_APP_URL: `http://localhost:${port}` });
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

  /** Chooses an option of a Mantine select or multi-select by the labels a person reads. */
  async function choose(page: Page, label: string | RegExp, option: string): Promise<void> {
    const input = page.locator('input').and(page.getByLabel(label, typeof label === 'string' ? { exact: true } : {}));
    // A multi-select's own input hides once it holds values: its box takes the click.
    if ((await input.getAttribute('data-type')) === 'hidden') await input.locator('xpath=ancestor::div[contains(@class, "mantine-MultiSelect-input")][1]').click();
    else await input.click();
    await page.getByRole('option', { name: option, exact: true }).click();
  }
  const saved = async (page: Page) => {
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  };

  test('P4 P5 P6 P9 P10 P12 P14 P15 P18 P21 P22 P23 P25 P26 P33 P39 a new admin configures every section, picking filter rules by name, a SAML provider from pasted metadata and a JWT provider with a generated secret', async () => {
    const admin = await createStaff(t, { role: 'admin' });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a read-back, compared field by field
    const read = async (url: string): Promise<any> => (await t.app.inject({ method: 'GET', url, headers: admin.auth })).json();
    // What the help desk already holds: a customer with a sign-in to come, a list without them, a pipeline.
    const s = t.app.services;
    const cora = await s.contacts.create({ email: `${unique('cora')}@example.com`, firstName: 'Cora', lastName: 'Customer' });
    const vip = await s.lists.create({ name: unique('VIP customers'), kind: 'static' });
    const { pipeline } = await s.pipelines.create({ name: unique('Support'), stages: [{ name: 'Waiting on us', state: 'open' }, { name: 'Solved', state: 'closed' }] });
    const inbox = (await t.app.inject({ method: 'POST', url: '/api/v1/inboxes', headers: admin.auth, payload: { name: unique('Help inbox') } })).json<{ name: string }>();

    const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    await page.goto(`${app}/portals`);
    await page.getByLabel('Email').fill(admin.email);
    await page.getByRole('textbox', { name: 'Password' }).fill(admin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();

    // A portal, named.
    const name = unique('Globex Help');
    await page.getByLabel('Name').fill(name);
    await page.getByRole('button', { name: 'Create portal' }).click();
    await page.getByRole('heading', { level: 2, name }).waitFor();
    const portalId = Number(/\/portals\/(\d+)/.exec(page.url())?.[1]);
    expect(portalId).toBeGreaterThan(0);

    // General (P5, P6, P39): an idle timeout under the minimum is refused at the field, in words.
    const host = `${unique('help').toLowerCase().replace(/[^a-z0-9]/g, '')}.localhost`;
    await page.getByLabel('Title (shown to customers)').fill('Globex customer support');
    await page.getByLabel('Domain').fill(host);
    await page.getByLabel('Slug').fill('Help Center');
    await page.getByLabel('Idle timeout (minutes)').fill('2');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText(/lower-case letters, digits and hyphens/).first().waitFor();
    await page.getByText(/at least 5|from 5/).first().waitFor();
    expect(await page.getByText(/must match|must NOT|\^\[a-z|\/body\//).count()).toBe(0);
    await page.getByLabel('Slug').fill('help-center');
    await page.getByLabel('Idle timeout (minutes)').fill('30');
    await choose(page, 'Languages offered', 'Polski');
    await page.keyboard.press('Escape');
    await page.getByLabel('Time zone').fill('Europe/Warsaw');
    await saved(page);
    await page.getByRole('link', { name: `http://${host}:${port}/help-center` }).waitFor();

    // Members (P8): Cora gets a sign-in and an invitation.
    await page.getByRole('tab', { name: 'Members' }).click();
    await page.getByLabel(/^Give a contact a sign-in/).fill(cora.email);
    await page.getByRole('button', { name: 'Add and invite' }).click();
    await page.getByRole('row').filter({ hasText: cora.email }).waitFor();

    // Sign-in and access (P9, P10): methods, registration, then a list that would shut Cora out: asked first.
    await page.getByRole('tab', { name: 'Sign-in and access' }).click();
    await page.getByRole('checkbox', { name: /magic link/ }).check();
    await page.getByRole('checkbox', { name: /Single sign-on/ }).check();
    await page.getByRole('switch', { name: /may register themselves/ }).check();
    await saved(page);
    await choose(page, 'Contact lists with access', `${vip.name} (fixed list)`);
    await page.keyboard.press('Escape');
    expect(await page.getByRole('switch', { name: /may register themselves/ }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'One member would lose access' });
    await dialog.getByText(`Cora Customer (${cora.email})`).waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect((await read(`/api/v1/portals/${portalId}`)).accessListIds).toEqual([]);

    // Single sign-on (P12): SAML from the identity provider's metadata, pasted; JWT with a generated secret.
    await page.getByLabel('Name on the sign-in button').fill('Globex SAML');
    await page.getByLabel('Identity provider metadata (XML)').fill(idp.metadataXml);
    await page.getByRole('button', { name: 'Read the metadata' }).click();
    await page.getByRole('status').filter({ hasText: 'Read from the metadata' }).getByText(idp.entityId).waitFor();
    await page.getByRole('button', { name: 'Add provider' }).click();
    await page.getByRole('region', { name: 'Provider Globex SAML' }).waitFor();
    await page.getByText('JWT', { exact: true }).click();
    await page.getByLabel('Name on the sign-in button').fill('Company site');
    await page.getByLabel('Sign-in page on the company’s site').fill('https://www.globex.example/portal-login');
    await page.getByLabel('Issuer').fill('https://www.globex.example');
    await page.getByRole('button', { name: 'Generate a shared secret' }).click();
    expect((await page.getByLabel('Generated shared secret').textContent()) ?? '').toMatch(/^[A-Za-z0-9_-]{64}$/);
    await page.getByRole('button', { name: 'Add provider' }).click();
    await page.getByRole('region', { name: 'Provider Company site' }).waitFor();

    // Consent (P14).
    await page.getByRole('tab', { name: 'Consent' }).click();
    await page.getByLabel('Consent notice').fill('We keep your name and email address to answer your requests.');
    await page.getByLabel('Checkbox label').fill('I agree');
    await saved(page);

    // Tickets (P15, P18, P33): company scope; rules picked by name, never typed as ids.
    await page.getByRole('tab', { name: 'Tickets' }).click();
    await page.getByRole('radio', { name: /every ticket of their primary company/ }).check();
    await page.getByRole('button', { name: 'Add condition' }).click();
    await choose(page, 'Condition 1: property', 'Pipeline');
    await choose(page, 'Condition 1: value', pipeline.name);
    await page.getByRole('button', { name: 'Add condition' }).click();
    await choose(page, 'Condition 2: property', 'Priority');
    await choose(page, 'Condition 2: how it compares', 'is any of');
    await choose(page, 'Condition 2: values', 'High');
    await choose(page, 'Condition 2: values', 'Urgent');
    await page.keyboard.press('Escape');
    await page.getByTestId('matching-count').filter({ hasText: /of [\d,]+ tickets match right now/ }).waitFor();
    await page.getByRole('switch', { name: /custom stage names/ }).check();
    await saved(page);

    // Templates (P21): a change saved, then back to the default, which asks first.
    await page.getByRole('tab', { name: 'Templates' }).click();
    const source = page.getByLabel(/^Source of /);
    await source.fill(`${await source.inputValue()}\n<p>Open Monday to Friday.</p>`);
    await page.getByRole('button', { name: 'Save template' }).click();
    await expect.poll(async () => ((await read(`/api/v1/portals/${portalId}/templates`)) as { items: { custom: boolean }[] }).items.some((i) => i.custom), WAIT).toBe(true);
    await page.getByRole('button', { name: 'Back to the default' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete our version' }).click();
    await expect.poll(async () => ((await read(`/api/v1/portals/${portalId}/templates`)) as { items: { custom: boolean }[] }).items.some((i) => i.custom), WAIT).toBe(false);

    // Branding and navigation menu (P22, P23).
    await page.getByRole('tab', { name: 'Branding and menu' }).click();
    await page.getByLabel('Primary colour', { exact: true }).fill('#1b4d89');
    await page.getByRole('heading', { name: 'Branding and navigation menu' }).click();
    await page.getByRole('button', { name: 'Add a link' }).click();
    await page.getByLabel('Link 1 label').fill('Status page');
    await page.getByLabel('Link 1 address').fill('https://status.globex.example');
    await saved(page);

    // The support form (P25): built on its own screen, then given to the portal.
    await page.getByRole('link', { name: 'Support forms' }).click();
    await page.getByRole('button', { name: 'New form' }).click();
    await page.getByLabel(/^Name/).fill('Report a problem');
    await choose(page, /^Files tickets into the inbox/, inbox.name);
    await page.getByRole('button', { name: 'Save form' }).click();
    // Saved, it is listed and its editor carries its name.
    await page.getByRole('heading', { level: 3, name: 'Report a problem' }).waitFor();
    await page.goto(`${app}/portals/${portalId}?tab=form`);
    await choose(page, 'Support form', 'Report a problem');
    await saved(page);

    // The portal on (P26): nothing is missing any more.
    await page.getByRole('switch', { name: 'Portal is off' }).click();
    await page.getByText('Portal is enabled').waitFor();

    // Read back: what the screens set, in the API's own terms.
    const portal = await read(`/api/v1/portals/${portalId}`);
    expect(portal).toMatchObject({
      enabled: true, title: 'Globex customer support', domain: host, slug: 'help-center', languages: ['en', 'pl'], timeZone: 'Europe/Warsaw', idleTimeoutMinutes: 30,
      signInMethods: expect.arrayContaining(['password', 'magic_link', 'sso']), selfRegistration: true, accessListIds: [],
      consentText: 'We keep your name and email address to answer your requests.', consentLabel: 'I agree',
      scope: 'company', showCustomStages: true,
      filters: [{ property: 'pipelineId', operator: 'is', value: pipeline.id }, { property: 'priority', operator: 'is_any_of', values: ['high', 'urgent'] }],
      branding: expect.objectContaining({ primaryColor: '#1b4d89' }), menu: [{ label: 'Status page', url: 'https://status.globex.example' }],
      url: `http://${host}:${port}/help-center`,
    });
    expect(portal.formId).not.toBeNull();
    const providers = (await read(`/api/v1/portals/${portalId}/sso-providers`)).items;
    expect(providers.map((p: { kind: string; name: string }) => [p.kind, p.name])).toEqual([['saml', 'Globex SAML'], ['jwt', 'Company site']]);

    // What customers meet: the portal's sign-in page with its title, registration and both providers.
    const customer = await context.newPage();
    const res = await customer.goto(`http://${host}:${port}/help-center/sign-in`);
    expect(res?.status()).toBe(200);
    expect(await customer.content()).toContain('Globex SAML');
    expect(await customer.content()).toContain('Company site');
    await customer.getByRole('link', { name: /Register/i }).waitFor();
    await context.close();
  });
});
