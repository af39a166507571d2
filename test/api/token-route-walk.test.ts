import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TokenPurpose } from '../../src/db/schema.js';
import { issueToken, TOKEN_TTL_MS } from '../../src/modules/members/one-time-tokens.js';
import { createTestApp, dialects, rowCounts, unique, type TestApp } from '../helpers/test-app.js';
import { cookiesOf, csrfOf } from '../helpers/portal-forms.js';

/**
 * Every portal route that takes an emailed link's token (found in the route table, so a new one
 * cannot be missed) gets a forged token, a malformed one, another portal's, a used one and an
 * expired one: each answers 4xx, sets no session, and changes no row.
 */
const PURPOSE_OF: Record<string, TokenPurpose> = {
  'password-reset': 'reset',
  invitation: 'invite',
  'magic-link': 'magic',
  verify: 'verify',
  'email-change': 'email',
};

describe.each(dialects)('the token routes on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(async () => {
    await t.close();
  });

  async function portal() {
    const host = `${unique('tok').toLowerCase()}.example.com`;
    const contact = await t.app.services.contacts.create({ email: `${unique('m')}@example.com` });
    const p = await t.app.services.portals.create({ name: 'Acme', domain: host, consentText: 'ok', signInMethods: ['password', 'magic_link'], selfRegistration: true });
    await t.app.services.portals.update(p.id, { enabled: true });
    const member = await t.app.services.portals.createMember(p.id, contact.id, 'a member passphrase');
    return { host, slug: p.slug, portalId: p.id, memberId: member.id };
  }

  // Staff preview links and single sign-on's own continuations are not emailed one-time tokens;
  // staff-app.test.ts and the sso-*.test.ts files walk them.
  const tokenRoutes = () => t.app.routeTable.filter((r) => r.url.includes(':token') && !r.url.includes('/preview/') && !r.url.includes('/sso/')).map((r) => ({ method: r.method, url: r.url, fields: r.bodyFields }));

  test('P11 X2 P9 P10 the walk knows every token route', () => {
    const kinds = new Set(tokenRoutes().map((r) => r.url.split('/')[2]));
    expect([...kinds].sort()).toEqual(Object.keys(PURPOSE_OF).sort());
  });

  test('P11 X2 P9 P10 forged, malformed, another portal’s, used and expired tokens answer 4xx and change nothing', async () => {
    const f = await portal();
    const other = await portal();
    for (const route of tokenRoutes()) {
      const kind = route.url.split('/')[2]!;
      const purpose = PURPOSE_OF[kind]!;
      const now = t.clock.now();
      const theirs = await issueToken(t.app.deps.db, purpose, other.portalId, other.memberId, now);
      const used = await issueToken(t.app.deps.db, purpose, f.portalId, f.memberId, now);
      await t.app.deps.db.updateTable('one_time_tokens').set({ used_at: now }).where('member_id', '=', f.memberId).where('purpose', '=', purpose).execute();
      const expired = await issueToken(t.app.deps.db, purpose, f.portalId, f.memberId, now - TOKEN_TTL_MS[purpose] - 1);
      const cases = { forged: `${theirs.slice(0, -1)}${theirs.endsWith('A') ? 'B' : 'A'}`, malformed: `..%2F${'%00'.repeat(3)}`, tooLong: 'a'.repeat(200), theirs, used, expired };
      const before = await rowCounts(t);
      const tokens = await t.app.deps.db.selectFrom('one_time_tokens').select(['token_hash', 'used_at']).orderBy('token_hash').execute();
      const sessions = await t.app.deps.db.selectFrom('member_sessions').select('id_hash').execute();
      for (const [why, token] of Object.entries(cases)) {
        const url = route.url.replace(':slug', f.slug).replace(':token', token);
        let res;
        if (route.method === 'GET') {
          res = await t.app.inject({ method: 'GET', url, headers: { host: f.host }, remoteAddress: `10.44.0.${Object.keys(cases).indexOf(why) + 1}` });
        } else {
          const page = await t.app.inject({ method: 'GET', url: `/${f.slug}/sign-in`, headers: { host: f.host } });
          res = await t.app.inject({
            method: 'POST', url, remoteAddress: `10.44.1.${Object.keys(cases).indexOf(why) + 1}`,
            headers: { host: f.host, cookie: `portico_form=${cookiesOf(page).portico_form!}`, 'content-type': 'application/x-www-form-urlencoded' },
            // The fields the route takes: a new password where it sets one, the form token always.
            payload: new URLSearchParams({ ...(route.fields.includes('password') ? { password: 'a brand new passphrase' } : {}), csrf: csrfOf(page.body) }).toString(),
          });
        }
        const label = `${route.method} ${route.url} with a ${why} token`;
        expect(res.statusCode, label).toBeGreaterThanOrEqual(400);
        expect(res.statusCode, label).toBeLessThan(500);
        expect(cookiesOf(res).portico_member, label).toBeUndefined();
      }
      expect(await rowCounts(t), route.url).toEqual(before);
      expect(await t.app.deps.db.selectFrom('one_time_tokens').select(['token_hash', 'used_at']).orderBy('token_hash').execute(), route.url).toEqual(tokens);
      expect(await t.app.deps.db.selectFrom('member_sessions').select('id_hash').execute(), route.url).toEqual(sessions);
    }
  });
});
