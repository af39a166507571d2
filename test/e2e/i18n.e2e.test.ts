import { parse, TYPE, type MessageFormatElement } from '@formatjs/icu-messageformat-parser';
import type { Browser, Page } from 'playwright-core';
import { chromiumAvailable, launchChromium } from '../helpers/browser.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DEMO_PASSWORD, seedDemo } from '../../src/demo/seed.js';
import { catalogue, type Language } from '../../src/modules/i18n/catalogue.js';
import { portalOrigin, signInMember, startPortalServer } from '../helpers/portal-browser.js';
import type { TestApp } from '../helpers/test-app.js';

const available = chromiumAvailable('browser tests of the portal’s languages');

/** The words of a language's messages: every literal piece with a letter in it, trimmed. */
function wordsOf(language: Language): Set<string> {
  const pieces = new Set<string>();
  const walk = (elements: MessageFormatElement[]) => {
    for (const el of elements) {
      if (el.type === TYPE.literal) {
        for (const piece of el.value.split(/[·(){}#:.,!?←]/)) if (/\p{L}{2}/u.test(piece)) pieces.add(piece.trim());
      } else if (el.type === TYPE.plural || el.type === TYPE.select) {
        for (const option of Object.values(el.options)) walk(option.value);
      }
    }
  };
  for (const [key, message] of catalogue(language).source) if (key !== 'language.name') walk(parse(message, { ignoreTag: true }));
  return pieces;
}

/** Text of the page a visitor reads, labels included, without the data (subjects, names, messages). */
const CHROME_TEXT = `(() => {
  const body = document.body.cloneNode(true);
  for (const data of body.querySelectorAll('.ticket-head h1, tbody th, .ticket-list a, ul.articles a, .body, .from strong, .files a, .who, a.brand, select#language')) data.remove();
  const labels = [...body.querySelectorAll('[aria-label], [alt], [title], [placeholder]')]
    .map((el) => ['aria-label', 'alt', 'title', 'placeholder'].map((a) => el.getAttribute(a) ?? '').join(' '));
  const options = [...body.querySelectorAll('option')].map((o) => o.textContent ?? '');
  return [body.innerText, ...labels, ...options].join('\\n');
})()`;

async function chromeText(page: Page): Promise<string> {
  return page.evaluate<string>(CHROME_TEXT);
}

/** Words of `other` that show on the page though they are not also words of `language`. */
async function foreignWords(page: Page, language: Language, other: Language): Promise<string[]> {
  const text = await chromeText(page);
  const own = wordsOf(language);
  return [...wordsOf(other)].filter((w) => !own.has(w) && text.includes(w));
}

describe.skipIf(!available)('the portal’s languages in a real browser', () => {
  let t: TestApp;
  let browser: Browser;
  let base = '';
  let portalId = 0;

  beforeAll(async () => {
    let port: number;
    ({ t, port } = await startPortalServer());
    base = portalOrigin(port);
    await seedDemo(t.app.deps);
    const db = t.app.deps.db;
    // Hank's company gets three more tickets (Frank's), so the organization view shows five: every Polish plural form is on screen.
    const pipeline = await db.selectFrom('pipelines').select('id').orderBy('id').executeTakeFirstOrThrow();
    const s = t.app.services;
    const frank = await db.selectFrom('contacts').select('id').where('email', '=', 'frank@globex.example').executeTakeFirstOrThrow();
    for (const subject of ['Invoice address', 'VPN drops', 'New user for Marge']) {
      await s.tickets.create({ subject, pipelineId: pipeline.id, contactIds: [frank.id] }, null);
    }
    portalId = (await db.selectFrom('portals').select('id').where('domain', '=', 'portal.localhost').executeTakeFirstOrThrow()).id;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser.close();
    await t.close();
  });

  async function signIn(page: Page, email: string, password: string, button: string) {
    await signInMember(page, `${base}/tickets`, 'hank@globex.example', DEMO_PASSWORD, { open: false, words: { email, password, button } });
  }

  test('P7 X1 a portal switched to Polish shows no English on the sign-in, list and detail pages, with Polish plurals and dates; and back', async () => {
    await t.app.services.portals.update(portalId, { language: 'pl', languages: [] });
    // The browser asks for English: with one language offered, the portal's primary one wins.
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await page.goto(`${base}/tickets`);
    expect(await page.getAttribute('html', 'lang')).toBe('pl');
    expect(await page.title()).toBe('Logowanie · Portico Demo Support');
    expect(await foreignWords(page, 'pl', 'en')).toEqual([]);
    await signIn(page, 'E-mail', 'Hasło', 'Zaloguj się');
    expect(await page.getAttribute('html', 'lang')).toBe('pl');
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('W czym możemy pomóc?');
    expect(await foreignWords(page, 'pl', 'en')).toEqual([]);
    await page.getByRole('navigation', { name: 'Nawigacja' }).getByRole('link', { name: 'Zgłoszenia' }).click();
    expect(await page.locator('caption').innerText()).toBe('Wyświetlono 5 zgłoszeń');
    expect(await foreignWords(page, 'pl', 'en')).toEqual([]);
    // "25 lis 2026": Polish month abbreviations, day first.
    expect(await page.locator('tbody time').first().innerText()).toMatch(/^\d{1,2} (sty|lut|mar|kwi|maj|cze|lip|sie|wrz|paź|lis|gru) \d{4}$/);
    await page.getByRole('link', { name: 'Moje zgłoszenia' }).click();
    expect(await page.locator('caption').innerText()).toBe('Wyświetlono 1 zgłoszenie');
    await page.getByRole('link', { name: 'Zgłoszenia organizacji' }).click();
    // The choice applies as it changes (the button stays for browsers without scripts).
    await page.getByLabel('Stan').selectOption('open');
    await page.waitForURL((url) => url.searchParams.get('status') === 'open');
    const openCount = await page.locator('tbody tr').count();
    expect(await page.locator('caption').innerText()).toBe(`Wyświetlono ${openCount} ${openCount === 1 ? 'zgłoszenie' : openCount < 5 ? 'zgłoszenia' : 'zgłoszeń'}`);
    await page.getByRole('link', { name: 'Cannot sign in after password change' }).click();
    expect(await page.locator('.ticket-head .meta').innerText()).toMatch(/Otwarto \d{1,2} \p{L}{3} \d{4}, \d{2}:\d{2}\s[\s\S]*\s\d+ wiadomości$/u);
    expect(await page.getByLabel(/^Załączniki/).count()).toBe(1);
    expect(await foreignWords(page, 'pl', 'en')).toEqual([]);

    // And back: the same pages in English, with no Polish left.
    await t.app.services.portals.update(portalId, { language: 'en' });
    await page.reload();
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    expect(await page.locator('.ticket-head .meta').innerText()).toMatch(/Opened [A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d{2}\s[AP]M\s[\s\S]*\s\d+ messages$/);
    expect(await foreignWords(page, 'en', 'pl')).toEqual([]);
    await page.getByRole('link', { name: '← All tickets' }).click();
    expect(await page.locator('caption').innerText()).toBe('Showing 5 tickets');
    expect(await page.locator('tbody time').first().innerText()).toMatch(/^[A-Z][a-z]{2} \d{1,2}, \d{4}$/);
    expect(await foreignWords(page, 'en', 'pl')).toEqual([]);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${base}/tickets/sign-in`);
    expect(await foreignWords(page, 'en', 'pl')).toEqual([]);
    await context.close();
  });

  test('X1 a visitor gets their browser’s language, changes it with the switch, and keeps the page’s address', async () => {
    await t.app.services.portals.update(portalId, { language: 'en', languages: ['pl'] });
    const context = await browser.newContext({ locale: 'pl-PL' });
    const page = await context.newPage();
    await page.goto(`${base}/tickets/sign-in`);
    expect(await page.getAttribute('html', 'lang')).toBe('pl');
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Logowanie');
    // The language applies as it is chosen; the button is there only without scripts.
    expect(await page.getByRole('button', { name: 'Zmień' }).isVisible()).toBe(false);
    await page.getByLabel('Język').selectOption('en');
    await page.waitForFunction("document.documentElement.lang === 'en'");
    expect(page.url()).toBe(`${base}/tickets/sign-in`);
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Sign in');
    await signIn(page, 'Email', 'Password', 'Sign in');
    // The list's old address still leads to the list.
    await page.goto(`${base}/tickets?status=open`);
    expect(page.url()).toBe(`${base}/tickets/tickets?status=open`);
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Tickets');
    await page.getByLabel('Language').selectOption('pl');
    await page.waitForFunction("document.documentElement.lang === 'pl'");
    expect(page.url()).toBe(`${base}/tickets/tickets?status=open`);
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Zgłoszenia');
    expect(await foreignWords(page, 'pl', 'en')).toEqual([]);
    await context.close();
    // Saved on the member: an English browser elsewhere still gets Polish after signing in.
    const elsewhere = await browser.newContext({ locale: 'en-US' });
    const second = await elsewhere.newPage();
    await second.goto(`${base}/tickets/sign-in`);
    await signIn(second, 'Email', 'Password', 'Sign in');
    expect(await second.getAttribute('html', 'lang')).toBe('pl');
    await elsewhere.close();
  });
});
