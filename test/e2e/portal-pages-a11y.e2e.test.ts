import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import type { Browser, BrowserContext, Locator, Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { catalogue, type Language } from '../../src/modules/i18n/catalogue.js';
import { chromiumAvailable, launchChromium } from '../helpers/browser.js';
import { axeViolations, portalOrigin, signInMember, startPortalServer } from '../helpers/portal-browser.js';
import { createStaff, unique, type TestApp, type TestStaff } from '../helpers/test-app.js';

const available = chromiumAvailable('browser tests of every portal page’s accessibility');

const LANGUAGES: { code: Language; locale: string }[] = [{ code: 'en', locale: 'en-US' }, { code: 'pl', locale: 'pl-PL' }];
const SIZES = [{ width: 1280, height: 800 }, { width: 390, height: 844 }];
/** Issue 19: what one page may make a browser download, gzipped. */
const CSS_BUDGET = 30 * 1024;
const SCRIPT_BUDGET = 10 * 1024;
const PASSWORD = 'a long portal password 42';
const SHOTS = process.env.SCREENSHOTS_DIR === '' ? undefined : process.env.SCREENSHOTS_DIR;

/** A help center of its own, built by each test: a portal in English and Polish, and one that names contact lists. */
interface HelpCenter {
  /** The portal's home, origin and slug: http://<host>:<port>/help. */
  home: string;
  /** A second portal open only to the contacts on its list. */
  listsHome: string;
  member: string;
  /** A member of the lists portal who is on none of its lists. */
  outsider: string;
  openTicket: { id: number; subject: string };
  closedTicket: { id: number; subject: string };
  article: string;
  /** A word the open ticket and the articles share. */
  word: string;
  admin: TestStaff;
  /** The emailed password-reset link, once a page asked for it. */
  resetLink?: string;
}

/** The page's own words, from the language's catalogue (labels and buttons the steps use). */
function say(language: Language, key: string): string {
  const message = catalogue(language).source.get(key);
  if (message === undefined) throw new Error(`no message ${key}`);
  return message;
}

/** One portal page: how a person reaches it, and what it must show besides what every page must. */
interface PortalPage {
  /** In screenshot names: portal-<name>-<lang>-<width>.png. */
  name: string;
  signedIn: boolean;
  /** The HTTP status of the page, 200 unless said. */
  status?: number;
  /** Gets the browser there; answers the page's own response. */
  reach(page: Page, hc: HelpCenter, language: Language): Promise<Response | null>;
  /** What else is wrong with the page, in words (none: nothing). */
  check?(page: Page, hc: HelpCenter, language: Language): Promise<string[]>;
}

/** Sends a form by its button, as a person does, and waits for the page it leads to (after any redirect). */
async function submit(page: Page, button: Locator): Promise<Response> {
  const response = page.waitForResponse((r) => r.request().isNavigationRequest() && r.frame() === page.mainFrame() && (r.status() < 300 || r.status() >= 400));
  const loaded = page.waitForEvent('load');
  await button.click();
  const [res] = await Promise.all([response, loaded]);
  return res;
}

async function h1Is(page: Page, text: string): Promise<string[]> {
  const h1 = await page.locator('h1').allInnerTexts();
  return h1.length === 1 && h1[0]?.trim() === text ? [] : [`the heading is ${JSON.stringify(h1)}, not “${text}”`];
}

/** An error the page tells at once (role=alert) on the page it belongs to. */
async function alertShown(page: Page): Promise<string[]> {
  return (await page.getByRole('alert').count()) > 0 ? [] : ['no error is announced (no role=alert)'];
}

const SIGNED_OUT: PortalPage[] = [
  { name: 'sign-in', signedIn: false, reach: (page, hc) => page.goto(`${hc.home}/sign-in`) },
  {
    name: 'register', signedIn: false, reach: (page, hc) => page.goto(`${hc.home}/register`),
    check: async (page) => ((await page.getByRole('checkbox').count()) === 1 ? [] : ['no consent checkbox']),
  },
  { name: 'password-reset', signedIn: false, reach: (page, hc) => page.goto(`${hc.home}/password-reset`) },
  {
    // The "check your email" notice, after asking for a sign-in link.
    name: 'check-email', signedIn: false,
    reach: async (page, hc, language) => {
      await page.goto(`${hc.home}/sign-in`);
      await page.getByLabel(say(language, 'signIn.magicEmail'), { exact: true }).fill(hc.member);
      return submit(page, page.getByRole('button', { name: say(language, 'signIn.magicSubmit'), exact: true }));
    },
    check: async (page, _hc, language) => h1Is(page, say(language, 'reset.sent.title')),
  },
  {
    // Choosing a new password, from the link a real reset mail carries (read from the outbox).
    name: 'password-set', signedIn: false,
    reach: async (page, hc, language) => {
      if (hc.resetLink === undefined) {
        await page.goto(`${hc.home}/password-reset`);
        await page.getByLabel(say(language, 'signIn.email'), { exact: true }).fill(hc.member);
        await submit(page, page.getByRole('button', { name: say(language, 'reset.submit'), exact: true }));
        hc.resetLink = await mailedLink(hc, hc.member);
      }
      return page.goto(hc.resetLink);
    },
    check: async (page, _hc, language) => h1Is(page, say(language, 'password.title')),
  },
  {
    // A member the portal's contact lists leave out signs in with the right password.
    name: 'access-denied', signedIn: false, status: 403,
    reach: async (page, hc, language) => {
      await page.goto(`${hc.listsHome}/sign-in`);
      await page.getByLabel(say(language, 'signIn.email'), { exact: true }).fill(hc.outsider);
      await page.getByLabel(say(language, 'signIn.password'), { exact: true }).fill(PASSWORD);
      return submit(page, page.getByRole('button', { name: say(language, 'signIn.submit'), exact: true }));
    },
    check: async (page, _hc, language) => h1Is(page, say(language, 'access.denied.title')),
  },
  { name: 'not-found-address', signedIn: false, status: 404, reach: (page, hc) => page.goto(`${hc.home}/no-such-page`) },
  { name: 'kb', signedIn: false, reach: (page, hc) => page.goto(`${hc.home}/kb`) },
  { name: 'kb-article', signedIn: false, reach: (page, hc) => page.goto(`${hc.home}/kb/${hc.article}`) },
  {
    name: 'kb-search', signedIn: false, reach: (page, hc) => page.goto(`${hc.home}/kb?q=${hc.word}`),
    check: async (page, hc) => ((await page.locator('main').getByRole('link', { name: new RegExp(hc.word) }).count()) >= 2 ? [] : ['the search does not list both articles']),
  },
];

const SIGNED_IN: PortalPage[] = [
  { name: 'home', signedIn: true, reach: (page, hc) => page.goto(hc.home) },
  {
    name: 'tickets', signedIn: true, reach: (page, hc) => page.goto(`${hc.home}/tickets`),
    check: async (page, hc) => ((await page.getByRole('link', { name: hc.openTicket.subject }).count()) === 1 ? [] : ['the open ticket is not listed']),
  },
  {
    name: 'search', signedIn: true, reach: (page, hc) => page.goto(`${hc.home}/search?q=${hc.word}`),
    check: async (page, hc) => ((await page.locator('main').getByRole('link', { name: new RegExp(hc.word) }).count()) >= 3 ? [] : ['the search does not list the ticket and both articles']),
  },
  {
    name: 'ticket-open', signedIn: true, reach: (page, hc) => page.goto(`${hc.home}/${hc.openTicket.id}`),
    check: async (page, hc) => [
      ...(await h1Is(page, hc.openTicket.subject)),
      ...((await page.locator('main').getByRole('link', { name: /\.txt$/ }).count()) === 2 ? [] : ['the two attachments are not both linked']),
    ],
  },
  { name: 'ticket-closed', signedIn: true, reach: (page, hc) => page.goto(`${hc.home}/${hc.closedTicket.id}`), check: async (page, hc) => h1Is(page, hc.closedTicket.subject) },
  {
    // An empty reply: the ticket page again, saying what is missing next to the reply box.
    name: 'ticket-reply-error', signedIn: true, status: 400,
    reach: async (page, hc, language) => {
      await page.goto(`${hc.home}/${hc.openTicket.id}`);
      return submit(page, page.getByRole('button', { name: say(language, 'ticket.send'), exact: true }));
    },
    check: async (page, hc, language) => [
      ...(await h1Is(page, hc.openTicket.subject)),
      ...(await alertShown(page)),
      ...((await page.getByText(say(language, 'reply.empty')).count()) > 0 ? [] : ['the reply error does not say what is missing']),
      ...((await page.getByLabel(say(language, 'ticket.reply'), { exact: true }).count()) === 1 ? [] : ['the reply box is not on the page']),
    ],
  },
  { name: 'new-ticket', signedIn: true, reach: (page, hc) => page.goto(`${hc.home}/new`) },
  {
    name: 'new-ticket-errors', signedIn: true, status: 400,
    reach: async (page, hc, language) => {
      await page.goto(`${hc.home}/new`);
      return submit(page, page.getByRole('button', { name: say(language, 'form.submit'), exact: true }));
    },
    check: async (page) => [
      ...(await alertShown(page)),
      ...((await page.locator('[aria-invalid="true"]').count()) === 3 ? [] : ['the three required fields are not marked invalid']),
    ],
  },
  { name: 'not-found-ticket', signedIn: true, status: 404, reach: (page, hc) => page.goto(`${hc.home}/999999`) },
  { name: 'not-found-address-signed-in', signedIn: true, status: 404, reach: (page, hc) => page.goto(`${hc.home}/no-such-page`) },
  { name: 'account-email', signedIn: true, reach: (page, hc) => page.goto(`${hc.home}/account/email`) },
  { name: 'account-password', signedIn: true, reach: (page, hc) => page.goto(`${hc.home}/account/password`) },
  { name: 'kb-signed-in', signedIn: true, reach: (page, hc) => page.goto(`${hc.home}/kb`) },
  { name: 'kb-article-signed-in', signedIn: true, reach: (page, hc) => page.goto(`${hc.home}/kb/${hc.article}`) },
  { name: 'kb-search-signed-in', signedIn: true, reach: (page, hc) => page.goto(`${hc.home}/kb?q=${hc.word}`) },
];

/** The first element the Tab key reaches: where it points, if it is a link. */
const FIRST_FOCUSABLE = `(() => {
  const all = [...document.querySelectorAll('a[href], button, input, select, textarea, summary, [tabindex]')];
  const first = all.find((el) => el.tabIndex >= 0 && !el.disabled && el.type !== 'hidden' && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden');
  return first === undefined ? null : { tag: first.tagName.toLowerCase(), href: first.getAttribute('href'), text: first.textContent.trim() };
})()`;
const HEADINGS = `document.querySelectorAll('h1').length`;
const HAS_MAIN = `document.getElementById('main') !== null`;
const SCROLL_WIDTH = `document.documentElement.scrollWidth`;
const ASSETS = `(() => ({
  css: [...document.querySelectorAll('link[rel~="stylesheet"][href]')].map((l) => l.href),
  js: [...document.querySelectorAll('script[src]')].map((s) => s.src),
}))()`;

/** Everything every page must be, in each size: what is wrong, in words. */
async function audit(page: Page, entry: PortalPage, language: Language, size: { width: number; height: number }): Promise<string[]> {
  const problems: string[] = [];
  for (const v of await axeViolations(page, 'minor')) problems.push(`axe ${v}`);
  const h1 = await page.evaluate<number>(HEADINGS);
  if (h1 !== 1) problems.push(`${h1} <h1> elements, not one`);
  const title = (await page.title()).trim();
  if (title === '') problems.push('an empty <title>');
  const lang = await page.getAttribute('html', 'lang');
  if (lang !== language) problems.push(`<html lang="${lang ?? ''}">, not "${language}"`);
  const first = await page.evaluate<{ tag: string; href: string | null; text: string } | null>(FIRST_FOCUSABLE);
  if (first?.tag !== 'a' || first.href !== '#main') problems.push(`no skip link first: the first focusable element is ${first === null ? 'none' : `<${first.tag}${first.href === null ? '' : ` href="${first.href}"`}> “${first.text}”`}`);
  if (!(await page.evaluate<boolean>(HAS_MAIN))) problems.push('no element with id="main" for the skip link');
  if (size.width <= 390) {
    const width = await page.evaluate<number>(SCROLL_WIDTH);
    if (width > size.width) problems.push(`scrolls sideways: ${width}px wide at ${size.width}px`);
  }
  if (SHOTS !== undefined) await page.screenshot({ path: join(SHOTS, `portal-${entry.name}-${language}-${size.width}.png`), fullPage: true });
  return problems;
}

/**
 * Issue 19: the gzipped stylesheets and scripts the page names, each asked of the portal's host
 * (in process: Node cannot resolve the *.localhost names the browser maps to this machine).
 */
async function weight(page: Page): Promise<string[]> {
  const assets = await page.evaluate<{ css: string[]; js: string[] }>(ASSETS);
  const total = async (urls: string[]) => {
    let bytes = 0;
    for (const href of urls) {
      const url = new URL(href);
      const res = await t.app.inject({ method: 'GET', url: `${url.pathname}${url.search}`, headers: { host: url.host } });
      if (res.statusCode !== 200) throw new Error(`${href}: HTTP ${res.statusCode}`);
      bytes += gzipSync(res.rawPayload).length;
    }
    return bytes;
  };
  const css = await total(assets.css);
  const js = await total(assets.js);
  const problems: string[] = [];
  if (css >= CSS_BUDGET) problems.push(`${(css / 1024).toFixed(1)} KB of gzipped CSS (budget ${CSS_BUDGET / 1024} KB)`);
  if (js >= SCRIPT_BUDGET) problems.push(`${(js / 1024).toFixed(1)} KB of gzipped script (budget ${SCRIPT_BUDGET / 1024} KB)`);
  return problems;
}

let t: TestApp;
let port = 0;

/** The newest mail's first link to `to`, from the development outbox (as an admin reads it). */
async function mailedLink(hc: HelpCenter, to: string): Promise<string> {
  const list = await t.app.inject({ method: 'GET', url: `/api/v1/outbox?to=${encodeURIComponent(to)}&limit=1`, headers: hc.admin.auth });
  const [newest] = list.json<{ items: { id: number }[] }>().items;
  if (newest === undefined) throw new Error(`no mail to ${to}`);
  const mail = (await t.app.inject({ method: 'GET', url: `/api/v1/outbox/${newest.id}`, headers: hc.admin.auth })).json<{ text: string }>();
  const link = /https?:\/\/\S+/.exec(mail.text)?.[0];
  if (link === undefined) throw new Error(`no link in the mail to ${to}`);
  return link;
}

/** A text file stored as an upload would be. */
function file(name: string, text: string) {
  return t.app.services.conversations.storeFile(Readable.from(Buffer.from(text)), name, 'text/plain');
}

/**
 * The data every page needs, new for each test: a company-scope portal in English and Polish
 * with password and sign-in links, self-registration with consent, a support form with a text,
 * a long text, a choice and a file field, a knowledge base category with two articles, a member
 * of a company with an open ticket (messages from both sides, with files) and a colleague's
 * closed one; and a second portal that lets in only the contacts on its list.
 */
async function buildHelpCenter(): Promise<HelpCenter> {
  const s = t.app.services;
  const tag = unique('hc').toLowerCase();
  // Readable words for the screenshots; the tag keeps names and slugs unique where they must be.
  const word = 'router';
  const admin = await createStaff(t, { role: 'admin' });
  const company = await s.companies.create({ name: `Nordwind ${tag}` });
  const member = await s.contacts.create({ email: `marta.${tag}@nordwind.example`, firstName: 'Marta', lastName: 'Kowalska', primaryCompanyId: company.id });
  const colleague = await s.contacts.create({ email: `jan.${tag}@nordwind.example`, firstName: 'Jan', lastName: 'Nowak', primaryCompanyId: company.id });
  const outsider = await s.contacts.create({ email: `olga.${tag}@elsewhere.example`, firstName: 'Olga', lastName: 'Obca' });
  const { pipeline, stages } = await s.pipelines.create({ name: `Support ${tag}`, stages: [{ name: 'Waiting on us', state: 'open' }, { name: 'Solved', state: 'closed' }] });
  const [waiting, solved] = stages;
  if (waiting === undefined || solved === undefined) throw new Error('no stages');
  const { inbox } = await s.inboxes.create(`Support ${tag}`);
  await s.inboxes.addChannel(inbox.id, { type: 'portal', name: 'Customer portal' });
  await s.inboxes.addChannel(inbox.id, { type: 'form', name: 'Support form' });
  const form = await s.forms.create({
    name: `Support request ${tag}`, inboxId: inbox.id, fields: [
      { key: 'subject', label: 'Subject', type: 'text', required: true, maps: 'subject' },
      { key: 'details', label: 'What happened?', type: 'textarea', required: true, maps: 'description', help: 'What you did, what you expected, and what happened instead.' },
      { key: 'area', label: 'Area', type: 'choice', required: true, options: ['Billing', 'Internet', 'Something else'], maps: 'category' },
      { key: 'files', label: 'Screenshots or files', type: 'file', required: false, maps: null },
    ],
  });
  const settings = {
    slug: 'help', language: 'en' as const, languages: ['pl' as const], timeZone: 'Europe/Warsaw', scope: 'company' as const, defaultInboxId: inbox.id,
    consentText: 'We keep your name and email to answer your requests. See https://example.com/privacy.', consentLabel: 'I agree to the processing of my data', kbPortalLink: true,
  };
  const portal = await s.portals.create({ name: 'Nordwind Help', title: 'Your tickets · Nordwind Help', domain: `${tag}.localhost`, ...settings, signInMethods: ['password', 'magic_link'], selfRegistration: true });
  await s.portals.update(portal.id, { enabled: true, formId: form.id });
  await s.portals.createMember(portal.id, member.id, PASSWORD);

  const list = await s.lists.create({ name: `Nordwind partners ${tag}`, kind: 'static' });
  await s.lists.addMembers(list.id, [colleague.id]);
  const listsPortal = await s.portals.create({ name: 'Nordwind Partners', title: 'Partner tickets · Nordwind', domain: `${tag}-partners.localhost`, ...settings, signInMethods: ['password'], accessListIds: [list.id] });
  await s.portals.update(listsPortal.id, { enabled: true });
  await s.portals.createMember(listsPortal.id, outsider.id, PASSWORD);

  const category = await s.kb.createCategory({ name: 'Internet', slug: `internet-${tag}`, description: 'Getting online and staying online.' });
  const article = await s.kb.createArticle({ categoryId: category.id, published: true, title: `Restarting your ${word}`, slug: `restarting-${tag}`, body: `Unplug the ${word} for **ten seconds**, then plug it in again.\n\nIf the light stays red, submit a ticket.` });
  await s.kb.createArticle({ categoryId: category.id, published: true, title: `Where the ${word} should stand`, slug: `where-${tag}`, body: `Keep the ${word} in the open:\n\n1. Not in a cupboard.\n2. Away from the microwave.` });

  const subjects = { open: `The ${word} drops the connection every evening`, closed: 'A second invoice for March' };
  const open = await s.tickets.create({ subject: subjects.open, pipelineId: pipeline.id, stageId: waiting.id, contactIds: [member.id] }, null);
  const openThread = await s.conversations.createThread({ inboxId: inbox.id, ticketId: open.id, contactId: member.id, subject: subjects.open }, { type: 'system' });
  const customer = { type: 'customer' as const, contactId: member.id };
  const staff = { type: 'staff' as const, staffUserId: admin.id };
  await s.conversations.addMessage({ threadId: openThread.id, kind: 'message', author: customer, bodyText: 'Every evening around eight the connection drops for ten minutes. The log is attached.', files: [await file('router-log.txt', '20:01 link down\n20:11 link up\n')] });
  await s.conversations.addMessage({ threadId: openThread.id, kind: 'message', author: staff, bodyText: 'Thank you, Marta. Please try the settings in the attached file and tell us if it helps.', files: [await file('settings.txt', 'channel=11\n')] });
  await s.conversations.addMessage({ threadId: openThread.id, kind: 'message', author: customer, bodyText: 'It still drops, but only for two minutes now.' });
  const closed = await s.tickets.create({ subject: subjects.closed, pipelineId: pipeline.id, stageId: solved.id, contactIds: [colleague.id] }, null);
  const closedThread = await s.conversations.createThread({ inboxId: inbox.id, ticketId: closed.id, contactId: colleague.id, subject: subjects.closed }, { type: 'system' });
  await s.conversations.addMessage({ threadId: closedThread.id, kind: 'message', author: { type: 'customer', contactId: colleague.id }, bodyText: 'We were charged twice for March.' });
  await s.conversations.addMessage({ threadId: closedThread.id, kind: 'message', author: staff, bodyText: 'The second charge is refunded. Sorry for the trouble.' });

  return {
    home: `${portalOrigin(port, `${tag}.localhost`)}/help`, listsHome: `${portalOrigin(port, `${tag}-partners.localhost`)}/help`,
    member: member.email, outsider: outsider.email, admin, word, article: article.slug,
    openTicket: { id: open.id, subject: subjects.open }, closedTicket: { id: closed.id, subject: subjects.closed },
  };
}

/**
 * X5 X1 every customer-portal page, in English and Polish, at a desktop's and a phone's width:
 * axe finds nothing at any impact, and each page has one h1, a title, its language, a skip
 * link first, no sideways scrolling on a phone, and (issue 19) a light enough page.
 */
describe.skipIf(!available)('every portal page in a real browser: accessible, in both languages, on both sizes, light', () => {
  let browser: Browser;

  beforeAll(async () => {
    ({ t, port } = await startPortalServer());
    browser = await launchChromium();
    if (SHOTS !== undefined) mkdirSync(SHOTS, { recursive: true });
  });
  afterAll(async () => {
    await browser.close();
    await t.close();
  });

  /** A browser in `language`: its Accept-Language, and the portal's language cookie on both hosts. */
  async function contextIn(hc: HelpCenter, language: { code: Language; locale: string }): Promise<BrowserContext> {
    const context = await browser.newContext({ locale: language.locale, viewport: SIZES[0] });
    context.setDefaultTimeout(10_000);
    await context.addCookies([hc.home, hc.listsHome].map((home) => ({ name: 'portico_lang', value: language.code, url: new URL(home).origin })));
    return context;
  }

  /** Visits each page once per language; audits it at each size; answers every problem, by page. */
  async function visitAll(hc: HelpCenter, pages: PortalPage[], signedIn: boolean): Promise<string[]> {
    const problems: string[] = [];
    for (const language of LANGUAGES) {
      const context = await contextIn(hc, language);
      const page = await context.newPage();
      if (signedIn) {
        await signInMember(page, hc.home, hc.member, PASSWORD, { words: { email: say(language.code, 'signIn.email'), password: say(language.code, 'signIn.password'), button: say(language.code, 'signIn.submit') } });
      }
      for (const entry of pages) {
        const where = `${entry.name} (${language.code})`;
        let response: Response | null;
        try {
          response = await entry.reach(page, hc, language.code);
        } catch (error) {
          problems.push(`${where}: could not be reached: ${String(error).split('\n')[0] ?? ''}`);
          continue;
        }
        const status = response?.status() ?? 0;
        if (status !== (entry.status ?? 200)) problems.push(`${where}: HTTP ${status}, not ${entry.status ?? 200} (at ${new URL(page.url()).pathname})`);
        for (const p of (await entry.check?.(page, hc, language.code)) ?? []) problems.push(`${where}: ${p}`);
        if (language.code === 'en') for (const p of await weight(page)) problems.push(`${where}: ${p}`);
        for (const size of SIZES) {
          await page.setViewportSize(size);
          for (const p of await audit(page, entry, language.code, size)) problems.push(`${where} ${size.width}px: ${p}`);
        }
        await page.setViewportSize(SIZES[0]!);
      }
      await context.close();
    }
    if (problems.length > 0) process.stdout.write(`\nportal page problems:\n  ${problems.join('\n  ')}\n`);
    return problems;
  }

  test('X5 X1 P8 P9 P11 P14 P29 X2 C8 the signed-out pages (sign-in, registration with consent, password reset and its emailed link, check your email, access denied, not found, knowledge base home, article and search) pass axe and the page checks in English and Polish at 1280 and 390 px', { timeout: 180_000 }, async () => {
    const hc = await buildHelpCenter();
    expect(await visitAll(hc, SIGNED_OUT, false)).toEqual([]);
  });

  test('X5 X1 P1 P31 P34 P35 P37 P25 P24 C8 the signed-in pages (home, ticket list, search, open and closed ticket, a reply error, the support form and its errors, a missing ticket and an unknown address, account email and password, knowledge base) pass axe and the page checks in English and Polish at 1280 and 390 px', { timeout: 180_000 }, async () => {
    const hc = await buildHelpCenter();
    expect(await visitAll(hc, SIGNED_IN, true)).toEqual([]);
  });
});
