import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DEMO_PASSWORD, seedDemo } from '../../src/demo/seed.js';
import { chromiumAvailable, launchChromium } from '../helpers/browser.js';
import { axeViolations, portalOrigin, signInMember, startPortalServer } from '../helpers/portal-browser.js';
import { createStaff, type TestApp, type TestStaff } from '../helpers/test-app.js';

const available = chromiumAvailable('browser tests of the portal’s support form');

/**
 * P25 P37 C7 in a real browser on the demo portal: a member opens "Submit a support ticket",
 * makes a mistake (the page keeps what they typed), then files the ticket with a file; the
 * ticket page shows it and the staff inbox has its thread.
 */
describe.skipIf(!available)('the support form in a real browser', () => {
  let t: TestApp;
  let browser: Browser;
  let admin: TestStaff;
  let base = '';

  beforeAll(async () => {
    let port: number;
    ({ t, port } = await startPortalServer());
    await seedDemo(t.app.deps);
    admin = await createStaff(t, { role: 'admin' });
    base = portalOrigin(port);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser.close();
    await t.close();
  });

  test('P25 P37 C7 a member files a ticket through the form with a file; a mistake keeps what they typed; the ticket is in the portal and in the staff inbox', async () => {
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await signInMember(page, `${base}/tickets`, 'hank@globex.example', DEMO_PASSWORD);
    // In the header on every page (P25), and as a button on the ticket list.
    expect(await page.locator('header').getByRole('link', { name: 'Submit a support ticket' }).count()).toBe(1);
    await page.locator('main').getByRole('link', { name: 'Submit a support ticket' }).click();
    await page.waitForURL(`${base}/tickets/new`);
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Submit a support ticket');
    expect(await axeViolations(page)).toEqual([]);

    // Forgot the subject: the page comes back with the rest as typed.
    await page.getByLabel('What happened?').fill('The badge reader at the door rejects every card since 8:00.');
    await page.getByLabel('Area').selectOption('Hardware');
    await page.getByRole('button', { name: 'Submit the ticket' }).click();
    expect(await page.getByRole('alert').innerText()).toContain('Some answers need your attention');
    expect(await page.getByLabel('What happened?').inputValue()).toBe('The badge reader at the door rejects every card since 8:00.');
    expect(await page.getByLabel('Area').inputValue()).toBe('Hardware');
    expect(await page.locator('#f-subject-error').innerText()).toBe('Fill in this field.');
    expect(await axeViolations(page)).toEqual([]);

    // Typing the subject suggests the help article that may already answer it.
    await page.getByLabel('Subject').pressSequentially('Badge reader rejects all cards');
    await page.locator('#kb-suggestions').getByRole('link', { name: 'When the badge reader rejects your card' }).waitFor();
    expect(await page.locator('#kb-suggestions').innerText()).toContain('These articles may already answer it:');
    await page.getByLabel('Screenshots or files').setInputFiles({ name: 'reader-log.txt', mimeType: 'text/plain', buffer: Buffer.from('08:00 card rejected\n08:01 card rejected\n') });
    await page.getByRole('button', { name: 'Submit the ticket' }).click();
    await page.waitForURL(/\/tickets\/\d+$/);
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Badge reader rejects all cards');
    expect(await page.locator('main').innerText()).toContain('reader-log.txt');
    const ticketId = Number(/\/(\d+)$/.exec(page.url())?.[1]);
    await page.goto(`${base}/tickets`);
    expect(await page.locator('main').innerText()).toContain('Badge reader rejects all cards');
    await context.close();

    // The staff inbox has the thread, for Hank, with the ticket.
    const inboxes = (await t.app.inject({ method: 'GET', url: '/api/v1/inboxes', headers: admin.auth })).json<{ items: { id: number; name: string }[] }>().items;
    const support = inboxes.find((i) => i.name === 'Support');
    const threads = await t.app.inject({ method: 'GET', url: `/api/v1/threads?inboxId=${support?.id ?? 0}&ticketId=${ticketId}`, headers: admin.auth });
    const [thread] = threads.json<{ items: { id: number; ticketId: number; subject: string }[] }>().items;
    expect(thread?.subject).toBe('Badge reader rejects all cards');
  });

  test('C8 P24 a visitor finds a help article by search, reads it, and goes to the portal from it', async () => {
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await page.goto(`${base}/tickets/kb`);
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Help articles');
    expect(await axeViolations(page)).toEqual([]);
    await page.getByLabel('Search the articles').fill('badge read');
    await page.getByRole('button', { name: 'Search' }).click();
    expect(await page.getByRole('heading', { level: 2 }).first().innerText()).toBe('1 article for “badge read”');
    await page.getByRole('link', { name: 'When the badge reader rejects your card' }).click();
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('When the badge reader rejects your card');
    expect(await page.locator('article strong').innerText()).toBe('flat');
    expect(await axeViolations(page)).toEqual([]);
    // The knowledge base's navigation leads a visitor to signing in.
    await page.locator('header').getByRole('link', { name: 'Sign in' }).click();
    await page.waitForURL(/\/tickets\/sign-in/);
    await context.close();
  });
});
