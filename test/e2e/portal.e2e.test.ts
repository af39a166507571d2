import type { Browser } from 'playwright-core';
import { chromiumAvailable, launchChromium } from '../helpers/browser.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DEMO_PASSWORD, seedDemo } from '../../src/demo/seed.js';
import { axeViolations, portalOrigin, signInMember, startPortalServer } from '../helpers/portal-browser.js';
import type { TestApp } from '../helpers/test-app.js';

const available = chromiumAvailable('browser tests');

describe.skipIf(!available)('the customer portal in a real browser', () => {
  let t: TestApp;
  let browser: Browser;
  let port = 0;

  beforeAll(async () => {
    ({ t, port } = await startPortalServer());
    await seedDemo(t.app.deps);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser.close();
    await t.close();
  });

  test('P8 P19 P31 P34 P35 P38 P17 a customer signs in on the portal host, sees the company’s tickets but not internal ones, searches them (never an internal comment), switches the view, reads a ticket, replies with two files, downloads one, and signs out', async () => {
    const page = await browser.newPage();
    await page.goto(`http://portal.localhost:${port}/tickets`);
    expect(new URL(page.url()).pathname).toBe('/tickets/sign-in');
    await signInMember(page, `${portalOrigin(port)}/tickets`, 'hank@globex.example', DEMO_PASSWORD, { open: false });
    // The help center's home: the member's open tickets, then the whole list one link away.
    expect(await page.title()).toBe('Portico Demo Support');
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('How can we help?');
    await page.getByRole('navigation', { name: 'Menu' }).getByRole('link', { name: 'Tickets' }).click();
    await page.waitForURL(`http://portal.localhost:${port}/tickets/tickets`);
    expect(await page.title()).toBe('Tickets · Portico Demo Support');
    const rows = page.locator('tbody tr');
    expect(await rows.count()).toBe(2);
    await expect.poll(() => page.locator('tbody').innerText()).toContain('Export to CSV misses the last column');
    expect(await page.locator('tbody').innerText()).not.toContain('Security review');
    // Search: a word from Frank's message finds only his ticket; a word that sits only in an
    // internal comment on Hank's ticket finds nothing.
    const search = page.getByRole('searchbox', { name: 'Search' });
    await search.fill('Region');
    await search.press('Enter');
    await page.waitForURL((url) => url.searchParams.get('q') === 'Region');
    expect(await rows.count()).toBe(1);
    expect(await page.locator('tbody').innerText()).toContain('Export to CSV misses the last column');
    await search.fill('203.0.113.7');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL((url) => url.searchParams.get('q') === '203.0.113.7');
    expect(await rows.count()).toBe(0);
    expect(await page.locator('.empty').innerText()).toBe('No tickets match.');
    await search.fill('');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL((url) => url.searchParams.get('q') === '');
    expect(await rows.count()).toBe(2);
    await page.getByRole('link', { name: 'My tickets' }).click();
    expect(await page.locator('tbody tr').count()).toBe(1);
    await page.getByRole('link', { name: 'Cannot sign in after password change' }).click();
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Cannot sign in after password change');
    const conversation = await page.locator('.conversation').innerText();
    expect(conversation).toContain('Around 09:40 CET');
    expect(conversation).not.toContain('Logs show the account locked'); // an internal comment
    await page.getByLabel('Reply').fill('Still happening today, screenshots attached.');
    await page.locator('#reply-files').setInputFiles([
      { name: 'first.txt', mimeType: 'text/plain', buffer: Buffer.from('first attachment') },
      { name: 'second.txt', mimeType: 'text/plain', buffer: Buffer.from('second attachment') },
    ]);
    await page.getByRole('button', { name: 'Send reply' }).click();
    await expect.poll(() => page.locator('.conversation').innerText()).toContain('Still happening today, screenshots attached.');
    const download = page.waitForEvent('download');
    await page.getByRole('link', { name: 'second.txt' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toBe('second.txt');
    await page.getByRole('link', { name: '← All tickets' }).click();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`http://portal.localhost:${port}/tickets/sign-in`);
    await page.goto(`http://portal.localhost:${port}/tickets`);
    expect(new URL(page.url()).pathname).toBe('/tickets/sign-in');
    await page.close();
  });

  test('X5 an axe audit finds no serious or critical violation on the sign-in, home, list and detail pages', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`http://portal.localhost:${port}/tickets/sign-in`);
    expect(await axeViolations(page)).toEqual([]);
    await signInMember(page, `${portalOrigin(port)}/tickets`, 'hank@globex.example', DEMO_PASSWORD, { open: false });
    expect(await axeViolations(page)).toEqual([]);
    await page.goto(`${portalOrigin(port)}/tickets/tickets`);
    expect(await axeViolations(page)).toEqual([]);
    await page.getByRole('link', { name: 'Cannot sign in after password change' }).click();
    expect(await axeViolations(page)).toEqual([]);
    await context.close();
  });

  // Last: it moves the app's clock forward by twice the idle timeout.
  test('P39 a customer is signed out after the portal’s idle timeout', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signInMember(page, `${portalOrigin(port)}/tickets`, 'frank@globex.example', DEMO_PASSWORD);
    const portal = await t.app.deps.db.selectFrom('portals').select('idle_timeout_minutes').where('domain', '=', 'portal.localhost').executeTakeFirstOrThrow();
    const idle = portal.idle_timeout_minutes * 60_000;
    // The app's clock moves; the browser's does not need to (the session cookie outlives the idle timeout).
    t.clock.advance(idle - 60_000);
    await page.reload();
    expect(new URL(page.url()).pathname).toBe('/tickets');
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('How can we help?');
    // That request counted as activity; the full timeout from it signs the customer out.
    t.clock.advance(idle);
    await page.reload();
    expect(new URL(page.url()).pathname).toBe('/tickets/sign-in');
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Sign in');
    expect(await page.getByLabel('Password').inputValue()).toBe('');
    await context.close();
  });
});
