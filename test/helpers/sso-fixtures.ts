import { createHash } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { cookiesOf } from './portal-forms.js';
import { rowCounts, unique, type TestApp } from './test-app.js';

/** A portal of its own for one test, enabled, signing in by SSO (and password). */
export interface SsoPortal {
  host: string;
  slug: string;
  portalId: number;
  pipelineId: number;
}

let ipCounter = 0;
/** A new client address per request, so the sign-in rate limits never decide a test. */
export const freshIp = (): string => `10.77.${Math.floor(++ipCounter / 250) % 250}.${ipCounter % 250}`;

export async function ssoPortal(t: TestApp, options: { ssoAudience?: 'all' | 'lists'; ssoListIds?: number[]; accessListIds?: number[]; host?: string } = {}): Promise<SsoPortal> {
  const s = t.app.services;
  const host = options.host ?? `${unique('sso').toLowerCase()}.example.com`;
  const p = await s.portals.create({
    name: 'Acme Help', domain: host, consentText: 'ok', consentLabel: 'I agree', signInMethods: ['password', 'sso'],
    ...(options.ssoAudience === undefined ? {} : { ssoAudience: options.ssoAudience }),
    ...(options.ssoListIds === undefined ? {} : { ssoListIds: options.ssoListIds }),
    ...(options.accessListIds === undefined ? {} : { accessListIds: options.accessListIds }),
  });
  await s.portals.update(p.id, { enabled: true });
  const pipeline = await s.pipelines.create({ name: unique('P'), stages: [{ name: 'Open', state: 'open' }, { name: 'Done', state: 'closed' }] });
  return { host, slug: p.slug, portalId: p.id, pipelineId: pipeline.pipeline.id };
}

/** A contact with one ticket on the portal's pipeline, to see once signed in. */
export async function contactWithTicket(t: TestApp, f: SsoPortal, email = `${unique('c')}@example.com`): Promise<{ contactId: number; email: string; subject: string }> {
  const s = t.app.services;
  const contact = await s.contacts.create({ email, firstName: 'Sam', lastName: 'Single' });
  const subject = `Printer on fire ${unique('s')}`;
  await s.tickets.create({ subject, pipelineId: f.pipelineId, contactIds: [contact.id] }, null);
  return { contactId: contact.id, email, subject };
}

export function get(t: TestApp, f: SsoPortal, url: string, cookie?: string): Promise<LightMyRequestResponse> {
  return t.app.inject({ method: 'GET', url, headers: { host: f.host, ...(cookie === undefined ? {} : { cookie }) }, remoteAddress: freshIp() });
}

/**
 * A browser signed in as the contact's member on the portal (made a member if new), through the
 * members service as any sign-in would: its Cookie header.
 */
export async function signedInMember(t: TestApp, f: SsoPortal, contactId: number): Promise<string> {
  const db = t.app.deps.db;
  const now = t.clock.now();
  const existing = await db.selectFrom('members').select('id').where('portal_id', '=', f.portalId).where('contact_id', '=', contactId).executeTakeFirst();
  const memberId = existing?.id ?? (await db.insertInto('members').values({ portal_id: f.portalId, contact_id: contactId, password_hash: null, verified_at: now, created_at: now, updated_at: now }).returning('id').executeTakeFirstOrThrow()).id;
  const session = await db.transaction().execute((tx) => t.app.services.memberAuth.startSession(tx, f.portalId, memberId, { ip: freshIp(), userAgent: 'test browser' }));
  return `portico_member=${session.token}`;
}

/** The CSRF token of the member session behind a Cookie header (what its pages' forms carry). */
export async function csrfOf(t: TestApp, cookie: string): Promise<string> {
  const token = /portico_member=([^;]+)/.exec(cookie)?.[1] ?? '';
  const row = await t.app.deps.db.selectFrom('member_sessions').select('csrf_token').where('id_hash', '=', createHash('sha256').update(token).digest('hex')).executeTakeFirstOrThrow();
  return row.csrf_token;
}

/** The hidden fields and address of the form on a page. */
export function formOf(html: string): { action: string; fields: Record<string, string> } {
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1] ?? '';
  const fields = Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1] ?? '', m[2] ?? '']));
  return { action, fields };
}

/** The member cookie a sign-in set, as a Cookie header; undefined when none was set. */
export function memberCookie(res: LightMyRequestResponse): string | undefined {
  const value = cookiesOf(res).portico_member;
  return value === undefined || value === '' ? undefined : `portico_member=${value}`;
}

/** Signed in: redirected to `next`, and the ticket list shows the member's ticket. */
export async function expectSignedIn(t: TestApp, f: SsoPortal, res: LightMyRequestResponse, next: string, subject: string): Promise<string> {
  expect(res.statusCode, res.body).toBe(303);
  expect(res.headers.location).toBe(next);
  const cookie = memberCookie(res);
  expect(cookie).toBeDefined();
  const list = await get(t, f, `/${f.slug}`, cookie);
  expect(list.statusCode).toBe(200);
  expect(list.body).toContain(subject);
  return cookie as string;
}

/**
 * Refused: the page says so (4xx), no member cookie, and no session, member, contact or link
 * was created; `logs` holds a line giving the reason and its code, which is returned.
 */
export async function expectRefused(t: TestApp, attempt: () => Promise<LightMyRequestResponse>, logs: string[], reason: RegExp, status = 400): Promise<{ code?: string; reason?: string }> {
  const before = await rowCounts(t);
  const logged = logs.length;
  const res = await attempt();
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toContain('text/html');
  expect(memberCookie(res)).toBeUndefined();
  const after = await rowCounts(t);
  // A refusal may use up a flow or record a used id; it never makes a member, contact or session.
  for (const table of ['member_sessions', 'members', 'contacts', 'member_identities'] as const) expect(after[table], table).toBe(before[table]);
  const lines = logs.slice(logged).map((l) => JSON.parse(l) as { msg?: string; code?: string; reason?: string });
  const refusal = lines.find((l) => l.msg === 'single sign-on refused' || l.msg === 'single sign-on denied');
  expect(refusal?.reason, JSON.stringify(lines.map((l) => l.msg))).toMatch(reason);
  // Every refusal and denial names a stable code beside its sentence.
  expect(refusal?.code).toMatch(/^[a-z_]+$/);
  return refusal ?? {};
}
