import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from 'playwright-core';
import { DEMO_PORTAL_HOST } from '../../src/demo/seed.js';
import { freePort } from './server-process.js';
import { createTestApp, type TestApp } from './test-app.js';

/** WCAG 2.2 AA, as axe tags it (best practices left out). */
export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

const IMPACTS = ['minor', 'moderate', 'serious', 'critical'] as const;
export type Impact = (typeof IMPACTS)[number];

/**
 * Axe's WCAG 2.2 AA violations on the page of at least `least` impact, one line each: the rule,
 * its impact, what it asks, and the elements it found. Printed when there are any, so a failing
 * run says what to fix without a second run.
 */
export async function axeViolations(page: Page, least: Impact = 'serious'): Promise<string[]> {
  const result = await new AxeBuilder({ page }).withTags(WCAG_TAGS).analyze();
  const floor = IMPACTS.indexOf(least);
  const found = result.violations
    .filter((v) => IMPACTS.indexOf(v.impact ?? 'minor') >= floor)
    .map((v) => `${v.id} [${v.impact ?? '?'}]: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
  if (found.length > 0) process.stdout.write(`axe on ${page.url()}:\n  ${found.join('\n  ')}\n`);
  return found;
}

export interface PortalServer {
  t: TestApp;
  port: number;
}

/**
 * The whole app listening on a free loopback port, its emailed links (PUBLIC_APP_URL) naming that
 * port, its clock the browser's (cookies expiring by a manual clock would be dropped).
 */
export async function startPortalServer(env: Record<string, string> = {}): Promise<PortalServer> {
  const port = await freePort();
  const t = await createTestApp('sqlite', { PUBLIC_APP_URL: `http://localhost:${port}`, ...env });
  t.clock.set(Date.now());
  await t.app.listen({ host: '127.0.0.1', port });
  return { t, port };
}

/** Where the browser reaches a portal's host on that server (the demo portal's by default). */
export function portalOrigin(port: number, host = DEMO_PORTAL_HOST): string {
  return `http://${host}:${port}`;
}

/** The words of the sign-in form, in the page's language. */
export interface SignInWords {
  email: string;
  password: string;
  button: string;
}
export const ENGLISH_SIGN_IN: SignInWords = { email: 'Email', password: 'Password', button: 'Sign in' };

/**
 * Signs a member in through the portal's own form, as a person does: opens `${home}/sign-in`
 * (unless `open` is false: the page is on the form already), fills it, sends it, and waits to
 * land on `landing` (the portal's home, `home`, unless said).
 */
export async function signInMember(page: Page, home: string, email: string, password: string, options: { words?: SignInWords; open?: boolean; landing?: string } = {}): Promise<void> {
  const words = options.words ?? ENGLISH_SIGN_IN;
  if (options.open !== false) await page.goto(`${home}/sign-in`);
  await page.getByLabel(words.email, { exact: true }).fill(email);
  await page.getByLabel(words.password, { exact: true }).fill(password);
  await page.getByRole('button', { name: words.button, exact: true }).click();
  await page.waitForURL(options.landing ?? home);
}
