import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DEMO_PASSWORD, seedDemo } from '../../src/demo/seed.js';
import { OutboxWorker, smtpTransport } from '../../src/modules/mail/outbox-worker.js';
import { chromiumAvailable, launchChromium } from '../helpers/browser.js';
import { axeViolations, portalOrigin, signInMember, startPortalServer } from '../helpers/portal-browser.js';
import { SmtpSink } from '../helpers/smtp-sink.js';
import type { TestApp } from '../helpers/test-app.js';

const available = chromiumAvailable('browser tests of emailed account links');

/**
 * P11 X2 in a real browser, with the mail read from a real SMTP server: a forgotten password
 * reset from the emailed link, a sign-in by magic link, and the page a used link shows.
 */
describe.skipIf(!available)('emailed account links in a real browser', () => {
  let t: TestApp;
  let browser: Browser;
  let sink: SmtpSink;
  let worker: OutboxWorker;
  let base = '';

  beforeAll(async () => {
    let port: number;
    ({ t, port } = await startPortalServer({ MAIL_FROM: 'Portico Demo Support <support@portal.localhost>' }));
    await seedDemo(t.app.deps);
    sink = await new SmtpSink().start();
    worker = new OutboxWorker(t.app.deps, smtpTransport({ host: '127.0.0.1', port: sink.port, secure: false, requireTls: false, user: null, password: null }), { info: () => undefined, warn: () => undefined, error: () => undefined });
    base = portalOrigin(port);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser.close();
    await worker.stop();
    await sink.stop();
    await t.close();
  });

  /** Sends the outbox and returns the link in the newest mail to `to`. */
  async function mailedLink(to: string): Promise<string> {
    await worker.runOnce();
    const mail = sink.received.filter((m) => m.to.includes(to)).at(-1);
    const link = /https?:\/\/\S+/.exec(mail?.parsed.text ?? '')?.[0];
    if (link === undefined) throw new Error(`no link mailed to ${to}`);
    return link;
  }

  test('P11 a member resets a forgotten password from the emailed link, is signed in, and signs in with it later; the used link says so', async () => {
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await page.goto(`${base}/tickets/sign-in`);
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    expect(await axeViolations(page)).toEqual([]);
    await page.getByLabel('Email').fill('frank@globex.example');
    await page.getByRole('button', { name: 'Send the link' }).click();
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Check your email');
    expect(await page.locator('main').innerText()).toContain('If frank@globex.example has an account here');
    const link = await mailedLink('frank@globex.example');
    const mail = sink.received.at(-1)!;
    expect(mail.parsed.subject).toBe('Reset your password for Portico Demo Support');
    expect(mail.parsed.html).toContain(link.replaceAll('&', '&amp;'));
    await page.goto(link);
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Choose a new password');
    expect(await axeViolations(page)).toEqual([]);
    await page.getByLabel('New password').fill('password1');
    await page.getByRole('button', { name: 'Save the password' }).click();
    expect(await page.getByRole('alert').innerText()).toContain('most common');
    await page.getByLabel('New password').fill('frank grimes was here');
    await page.getByRole('button', { name: 'Save the password' }).click();
    await page.waitForURL(`${base}/tickets`);
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('How can we help?');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${base}/tickets/sign-in`);
    await signInMember(page, `${base}/tickets`, 'frank@globex.example', 'frank grimes was here', { open: false });
    await page.goto(link);
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('This link cannot be used');
    expect(await axeViolations(page)).toEqual([]);
    await context.close();
  });

  test('P9 P14 a visitor registers with consent, follows the link read from the SMTP server, and sees their (empty) ticket list', async () => {
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await page.goto(`${base}/tickets/sign-in`);
    await page.getByRole('link', { name: 'Register here' }).click();
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Create your account');
    expect(await axeViolations(page)).toEqual([]);
    const privacy = page.getByRole('link', { name: 'https://example.com/privacy' });
    expect(await privacy.getAttribute('rel')).toBe('noopener noreferrer');
    await page.getByLabel('Name').fill('Rita Registers');
    await page.getByLabel('Email').fill('rita@newco.example');
    await page.getByLabel('Password').fill('rita registers today');
    // The browser itself will not send the form without the consent box.
    await page.getByRole('button', { name: 'Register' }).click();
    expect(new URL(page.url()).pathname).toBe('/tickets/register');
    await page.getByLabel('I agree to the processing of my data').check();
    await page.getByRole('button', { name: 'Register' }).click();
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Check your email');
    const link = await mailedLink('rita@newco.example');
    expect(sink.received.at(-1)!.parsed.subject).toBe('Confirm your email for Portico Demo Support');
    await page.goto(link);
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Confirm your email address');
    expect(await axeViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Confirm my email' }).click();
    await page.waitForURL(`${base}/tickets`);
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('How can we help?');
    expect(await page.locator('.empty').first().innerText()).toBe('You have no open tickets.');
    expect(await page.getByRole('link', { name: 'Your account: Rita Registers' }).count()).toBe(1);
    await page.goto(`${base}/tickets/tickets`);
    expect(await page.locator('.empty').innerText()).toBe('No tickets yet.');
    await context.close();
  });

  test('X2 a member signs in by a magic link’s button, which leaves a clean address and works once', async () => {
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await page.goto(`${base}/tickets/sign-in`);
    expect(await axeViolations(page)).toEqual([]);
    await page.getByLabel('Email address for the link').fill('hank@globex.example');
    await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Check your email');
    const link = await mailedLink('hank@globex.example');
    expect(sink.received.at(-1)!.parsed.subject).toBe('Your sign-in link for Portico Demo Support');
    await page.goto(link);
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Sign in to Portico Demo Support');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/tickets`);
    expect(page.url()).toBe(`${base}/tickets`);
    await page.goto(`${base}/tickets/tickets`);
    expect(await page.locator('caption').innerText()).toBe('Showing 2 tickets');
    const other = await browser.newContext();
    const second = await other.newPage();
    await second.goto(link);
    expect(await second.getByRole('heading', { level: 1 }).innerText()).toBe('This link cannot be used');
    await second.getByRole('link', { name: 'Ask for a new link' }).click();
    expect(new URL(second.url()).pathname).toBe('/tickets/sign-in');
    await other.close();
    await context.close();
  });
  // Last: it closes the demo portal to everyone but the list's contacts.
  test('P10 an invited contact sets a password from the emailed link and sees the company’s tickets; a member off the list is denied', async () => {
    const s = t.app.services;
    const globex = await t.app.deps.db.selectFrom('companies').select('id').where('name', 'like', 'Globex%').executeTakeFirstOrThrow();
    const ivy = await s.contacts.create({ email: 'ivy@globex.example', firstName: 'Ivy', lastName: 'Invited', primaryCompanyId: globex.id });
    const list = await s.lists.create({ name: 'Portal customers', kind: 'static' });
    await s.lists.addMembers(list.id, [ivy.id]);
    const portal = await t.app.deps.db.selectFrom('portals').select('id').where('domain', '=', 'portal.localhost').executeTakeFirstOrThrow();
    await s.portals.update(portal.id, { accessListIds: [list.id] });
    const link = await mailedLink('ivy@globex.example');
    expect(sink.received.at(-1)!.parsed.subject).toBe('You are invited to Portico Demo Support');
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await page.goto(link);
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Choose a new password');
    await page.getByLabel('New password').fill('ivy was invited here');
    await page.getByRole('button', { name: 'Save the password' }).click();
    await page.waitForURL(`${base}/tickets`);
    await page.goto(`${base}/tickets/tickets`);
    expect(await page.locator('caption').innerText()).toBe('Showing 2 tickets');
    await page.goto(link);
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('This link cannot be used');
    const outsider = await browser.newContext({ locale: 'en-US' });
    const second = await outsider.newPage();
    await second.goto(`${base}/tickets/sign-in`);
    await second.getByLabel('Email', { exact: true }).fill('hank@globex.example');
    await second.getByLabel('Password').fill(DEMO_PASSWORD);
    await second.getByRole('button', { name: 'Sign in', exact: true }).click();
    expect(await second.getByRole('heading', { level: 1 }).innerText()).toBe('Access denied');
    expect(await axeViolations(second)).toEqual([]);
    await outsider.close();
    await context.close();
  });

});
