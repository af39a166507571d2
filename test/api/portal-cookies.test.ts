import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createStaff, createTestApp, dialects, unique, type TestApp } from '../helpers/test-app.js';
import { csrfOf } from '../helpers/portal-forms.js';

const PASSWORD = 'customer password 123';

/** Every Set-Cookie of a response, whole. */
function setCookies(res: LightMyRequestResponse): string[] {
  const raw = res.headers['set-cookie'];
  return raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
}

function valueOf(res: LightMyRequestResponse, name: string): string | undefined {
  const found = setCookies(res).find((c) => c.startsWith(`${name}=`));
  return found?.split(';')[0]?.slice(name.length + 1);
}

/**
 * A portal served over https (a TLS proxy saying so with TRUST_PROXY, or an https public URL)
 * sets every cookie Secure with the __Host- prefix; over plain http (development) the bare names.
 */
describe.each(dialects)('portal cookies behind TLS on %s', (dialect) => {
  const setups: { name: string; env: Record<string, string>; headers: Record<string, string> }[] = [
    { name: 'a TLS proxy with TRUST_PROXY', env: { TRUST_PROXY: 'true' }, headers: { 'x-forwarded-proto': 'https' } },
    { name: 'an https public URL', env: { PUBLIC_APP_URL: 'https://help.example.com' }, headers: {} },
  ];

  for (const setup of setups) {
    describe(setup.name, () => {
      let t: TestApp;
      beforeAll(async () => {
        t = await createTestApp(dialect, setup.env);
      });
      afterAll(async () => {
        await t.close();
      });

      test('P8 P38 X1 P30 every cookie the portal sets is Secure and __Host- prefixed, and only those names are read back', async () => {
        const s = t.app.services;
        const host = `${unique('tls').toLowerCase()}.example.com`;
        const p = await s.portals.create({ name: 'Acme', domain: host, consentText: 'ok', consentLabel: 'I agree', selfRegistration: true, languages: ['en', 'pl'] });
        await s.portals.update(p.id, { enabled: true });
        const email = `${unique('cora')}@example.com`;
        const contact = await s.contacts.create({ email, firstName: 'Cora' });
        const memberRow = await s.portals.createMember(p.id, contact.id, PASSWORD);
        const inject = (method: 'GET' | 'POST', url: string, headers: Record<string, string> = {}, payload?: Record<string, string>) => t.app.inject({
          method, url, headers: { host, ...setup.headers, ...headers, ...(payload === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }) },
          ...(payload === undefined ? {} : { payload: new URLSearchParams(payload).toString() }),
        });

        const page = await inject('GET', `/${p.slug}/sign-in`);
        const form = valueOf(page, '__Host-portico_form');
        expect(form).toBeDefined();
        const csrf = csrfOf(page.body);
        const signedIn = await inject('POST', `/${p.slug}/sign-in`, { cookie: `__Host-portico_form=${form}` }, { email, password: PASSWORD, csrf });
        expect(signedIn.statusCode).toBe(303);
        const session = valueOf(signedIn, '__Host-portico_member');
        expect(session).toBeDefined();
        // The bare name is not the session over https: a cookie planted by a plain-http page does not count.
        expect((await inject('GET', `/${p.slug}`, { cookie: `portico_member=${session}` })).statusCode).toBe(303);
        const list = await inject('GET', `/${p.slug}`, { cookie: `__Host-portico_member=${session}` });
        expect(list.statusCode).toBe(200);
        const language = await inject('POST', `/${p.slug}/language`, { cookie: `__Host-portico_member=${session}` }, { language: 'pl', csrf: csrfOf(list.body), next: `/${p.slug}` });
        expect(valueOf(language, '__Host-portico_lang')).toBe('pl');
        const signedOut = await inject('POST', `/${p.slug}/sign-out`, { cookie: `__Host-portico_member=${session}` }, { csrf: csrfOf(list.body) });
        expect(setCookies(signedOut).some((c) => c.startsWith('__Host-portico_member=;'))).toBe(true);

        const register = await inject('GET', `/${p.slug}/register`);
        const registered = await inject('POST', `/${p.slug}/register`, { cookie: `__Host-portico_form=${valueOf(register, '__Host-portico_form') ?? ''}` },
          { name: 'Rita', email: `${unique('rita')}@example.com`, password: 'a long enough password 1', consent: 'yes', csrf: csrfOf(register.body) });
        expect(valueOf(registered, '__Host-portico_registration')).toBeDefined();

        const staff = await createStaff(t, { role: 'admin' });
        const link = await t.app.inject({ method: 'POST', url: `/api/v1/portals/${p.id}/previews`, headers: staff.auth, payload: { memberId: memberRow.id } });
        expect(link.statusCode).toBe(201);
        const opened = await inject('GET', new URL(link.json<{ url: string }>().url).pathname);
        expect(valueOf(opened, '__Host-portico_preview')).toBeDefined();

        for (const res of [page, signedIn, language, signedOut, registered, opened]) {
          for (const cookie of setCookies(res)) {
            expect(cookie.startsWith('__Host-'), cookie).toBe(true);
            expect(cookie).toMatch(/; Secure/);
            expect(cookie).toMatch(/; Path=\//);
            expect(cookie).not.toMatch(/Domain=/i);
            expect(cookie).toMatch(/; HttpOnly/);
          }
        }
      });

      test('P12 the single sign-on proof cookie, scoped to its provider’s path, is Secure with the __Secure- prefix', async () => {
        const s = t.app.services;
        const host = `${unique('tlssso').toLowerCase()}.example.com`;
        const p = await s.portals.create({ name: 'Acme', domain: host, consentText: 'ok', signInMethods: ['password', 'sso'] });
        const admin = await createStaff(t, { role: 'admin' });
        const created = await t.app.inject({
          method: 'POST', url: `/api/v1/portals/${p.id}/sso-providers`, headers: admin.auth,
          payload: { kind: 'jwt', name: 'Acme accounts', settings: { algorithm: 'HS256', issuer: 'https://acme.example', audience: 'portico', loginUrl: 'https://acme.example/login' }, secrets: { sharedSecret: 'a-shared-secret-of-the-company-site-0123456789' } },
        });
        expect(created.statusCode, created.body).toBe(201);
        await s.portals.update(p.id, { enabled: true });
        const id = created.json<{ id: number }>().id;
        const start = await t.app.inject({ method: 'GET', url: `/${p.slug}/sso/${id}/start`, headers: { host, ...setup.headers } });
        expect(start.statusCode).toBe(303);
        const [cookie] = setCookies(start);
        expect(cookie).toMatch(new RegExp(`^__Secure-portico_sso=[^;]+; .*Path=/${p.slug}/sso/${id}/`));
        expect(cookie).toMatch(/; Secure/);
        expect(cookie).toMatch(/; HttpOnly/);
      });
    });
  }
});
