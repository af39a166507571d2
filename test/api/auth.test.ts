import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createStaff, createTestApp, dialects, unique, type TestApp } from '../helpers/test-app.js';

function cookieOf(res: { headers: Record<string, unknown> }): string {
  const raw = res.headers['set-cookie'];
  const first = Array.isArray(raw) ? String(raw[0]) : String(raw);
  return first.split(';')[0] ?? '';
}

describe.each(dialects)('staff authentication on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(async () => {
    await t.close();
  });

  async function signIn(email: string, password: string) {
    return t.app.inject({ method: 'POST', url: '/api/v1/auth/sign-in', payload: { email, password }, remoteAddress: `10.0.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}` });
  }

  test('C4 sign-in opens a server-side session: HttpOnly SameSite cookie, a new id each time, and sign-out ends it', async () => {
    const staff = await createStaff(t, { role: 'admin' });
    const first = await signIn(staff.email.toUpperCase(), staff.password);
    expect(first.statusCode).toBe(200);
    const setCookie = String(first.headers['set-cookie']);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);
    expect(first.headers['cache-control']).toBe('no-store');
    const second = await signIn(staff.email, staff.password);
    expect(cookieOf(second)).not.toBe(cookieOf(first));

    const cookie = cookieOf(first);
    const csrf = first.json<{ csrfToken: string }>().csrfToken;
    const me = await t.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie } });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ via: 'session', user: { email: staff.email } });

    const out = await t.app.inject({ method: 'POST', url: '/api/v1/auth/sign-out', headers: { cookie, 'x-csrf-token': csrf } });
    expect(out.statusCode).toBe(204);
    const after = await t.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie } });
    expect(after.statusCode).toBe(401);
    expect(after.headers['content-type']).toMatch(/application\/problem\+json/);
  });

  test('C4 an unknown email and a wrong password get the same answer', async () => {
    const staff = await createStaff(t);
    const wrong = await signIn(staff.email, 'not the password at all');
    const unknown = await signIn(`${unique('nobody')}@example.com`, 'not the password at all');
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json().code).toBe('INVALID_CREDENTIALS');
    expect(unknown.json().code).toBe('INVALID_CREDENTIALS');
    expect(wrong.json().title).toBe(unknown.json().title);
  });

  test('C4 ten wrong passwords lock the account; the right one is then refused until the lock ends', async () => {
    const staff = await createStaff(t);
    for (let i = 0; i < 10; i++) expect((await signIn(staff.email, `wrong-${i}-password`)).statusCode).toBe(401);
    // Past the minute's attempt limit, the lock still holds.
    t.clock.advance(2 * 60 * 1000);
    expect((await signIn(staff.email, staff.password)).statusCode).toBe(401);
    t.clock.advance(16 * 60 * 1000);
    expect((await signIn(staff.email, staff.password)).statusCode).toBe(200);
  });

  test('C4 sign-in is rate limited per address', async () => {
    const staff = await createStaff(t);
    const codes: number[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/sign-in', payload: { email: staff.email, password: 'x' }, remoteAddress: '192.0.2.77' });
      codes.push(res.statusCode);
    }
    expect(codes.slice(0, 10).every((c) => c === 401)).toBe(true);
    expect(codes[11]).toBe(429);
  });

  test('C4 a session expires after the idle timeout and after its absolute lifetime', async () => {
    const staff = await createStaff(t);
    const res = await signIn(staff.email, staff.password);
    const cookie = cookieOf(res);
    t.clock.advance(t.config.staffSession.idleMinutes * 60 * 1000 - 1000);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie } })).statusCode).toBe(200);
    t.clock.advance(t.config.staffSession.idleMinutes * 60 * 1000 + 1);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie } })).statusCode).toBe(401);

    const again = cookieOf(await signIn(staff.email, staff.password));
    const hourly = 60 * 60 * 1000;
    for (let h = 0; h < t.config.staffSession.absoluteHours; h++) {
      t.clock.advance(hourly);
      await t.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie: again } });
    }
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie: again } })).statusCode).toBe(401);
  });

  test('C4 unsafe requests with the session cookie need the CSRF token; API tokens do not', async () => {
    const staff = await createStaff(t, { role: 'admin' });
    const res = await signIn(staff.email, staff.password);
    const cookie = cookieOf(res);
    const csrf = res.json<{ csrfToken: string }>().csrfToken;
    const payload = { name: unique('Co') };
    const without = await t.app.inject({ method: 'POST', url: '/api/v1/companies', headers: { cookie }, payload });
    expect(without.statusCode).toBe(403);
    expect(without.json().code).toBe('CSRF_TOKEN_INVALID');
    const wrong = await t.app.inject({ method: 'POST', url: '/api/v1/companies', headers: { cookie, 'x-csrf-token': csrf + 'x' }, payload });
    expect(wrong.statusCode).toBe(403);
    const ok = await t.app.inject({ method: 'POST', url: '/api/v1/companies', headers: { cookie, 'x-csrf-token': csrf }, payload });
    expect(ok.statusCode).toBe(201);
    const bearer = await t.app.inject({ method: 'POST', url: '/api/v1/companies', headers: staff.auth, payload: { name: unique('Co') } });
    expect(bearer.statusCode).toBe(201);
  });

  test('C9 API tokens are stored hashed, shown once, and stop working when revoked', async () => {
    const staff = await createStaff(t);
    const created = await t.app.inject({ method: 'POST', url: '/api/v1/api-tokens', headers: staff.auth, payload: { name: 'integration' } });
    expect(created.statusCode).toBe(201);
    const { secret, token } = created.json<{ secret: string; token: { id: number } }>();
    expect(secret).toMatch(/^ptk_/);
    const stored = await t.app.deps.db.selectFrom('api_tokens').selectAll().where('id', '=', token.id).executeTakeFirstOrThrow();
    expect(JSON.stringify(stored)).not.toContain(secret.slice(4));
    const list = await t.app.inject({ method: 'GET', url: '/api/v1/api-tokens', headers: staff.auth });
    expect(JSON.stringify(list.json())).not.toContain(secret);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/contacts', headers: { authorization: `Bearer ${secret}` } })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/api-tokens/${token.id}`, headers: staff.auth })).statusCode).toBe(204);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/contacts', headers: { authorization: `Bearer ${secret}` } })).statusCode).toBe(401);
  });

  test("C4 another agent's token is not found to an agent; garbage bearer tokens answer 401", async () => {
    const a = await createStaff(t);
    const b = await createStaff(t);
    const bTokens = await t.app.deps.db.selectFrom('api_tokens').select('id').where('staff_user_id', '=', b.id).execute();
    const res = await t.app.inject({ method: 'DELETE', url: `/api/v1/api-tokens/${bTokens[0]!.id}`, headers: a.auth });
    expect(res.statusCode).toBe(404);
    for (const authorization of ['Bearer ', 'Bearer ptk_nope', 'Basic abc', `Bearer ${'x'.repeat(5000)}`]) {
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/contacts', headers: { authorization } })).statusCode).toBe(401);
    }
  });

  test('C4 P3 roles and permissions: agents read settings, only holders of manage_settings change them, manage_staff manages staff', async () => {
    const agent = await createStaff(t);
    const settingsAgent = await createStaff(t, { permissions: ['manage_settings'] });
    const admin = await createStaff(t, { role: 'admin' });
    const pipeline = { name: unique('P'), stages: [{ name: 'Open', state: 'open' }] };
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/pipelines', headers: agent.auth })).statusCode).toBe(200);
    const denied = await t.app.inject({ method: 'POST', url: '/api/v1/pipelines', headers: agent.auth, payload: pipeline });
    expect(denied.statusCode).toBe(403);
    expect(denied.json().code).toBe('FORBIDDEN');
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/pipelines', headers: settingsAgent.auth, payload: pipeline })).statusCode).toBe(201);
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/staff-users', headers: settingsAgent.auth, payload: { email: `${unique('s')}@example.com`, name: 'S', role: 'agent' } })).statusCode).toBe(403);
    const made = await t.app.inject({ method: 'POST', url: '/api/v1/staff-users', headers: admin.auth, payload: { email: `${unique('s')}@example.com`, name: 'S', role: 'agent', permissions: ['portal_settings'] } });
    expect(made.statusCode).toBe(201);
    expect(made.json()).not.toHaveProperty('password_hash');
    expect(made.json().permissions).toEqual(['portal_settings']);
  });

  test('C4 C9 the last active admin cannot be demoted, disabled or deleted; a disabled user is signed out and their API tokens revoked for good', async () => {
    const { app } = t;
    const admins = await app.deps.db.selectFrom('staff_users').select('id').where('role', '=', 'admin').execute();
    const keep = await createStaff(t, { role: 'admin' });
    for (const a of admins) await app.services.staff.update(a.id, { role: 'agent' });
    const self = await app.inject({ method: 'PATCH', url: `/api/v1/staff-users/${keep.id}`, headers: keep.auth, payload: { role: 'agent' } });
    expect(self.statusCode).toBe(409);
    expect(self.json().code).toBe('LAST_ADMIN');
    const other = await createStaff(t, { role: 'admin' });
    const disable = await app.inject({ method: 'PATCH', url: `/api/v1/staff-users/${other.id}`, headers: keep.auth, payload: { disabled: true } });
    expect(disable.statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/api/v1/contacts', headers: other.auth })).statusCode).toBe(401);
    expect((await app.inject({ method: 'DELETE', url: `/api/v1/staff-users/${keep.id}`, headers: keep.auth })).statusCode).toBe(409);
    // Enabled again, the user signs in afresh: the API tokens of before stay revoked.
    expect((await app.inject({ method: 'PATCH', url: `/api/v1/staff-users/${other.id}`, headers: keep.auth, payload: { disabled: false } })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/api/v1/contacts', headers: other.auth })).statusCode).toBe(401);
    expect((await signIn(other.email, other.password)).statusCode).toBe(200);
  });

  test('C4 passwords are hashed with argon2id and never leave the server', async () => {
    const staff = await createStaff(t);
    const row = await t.app.deps.db.selectFrom('staff_users').select('password_hash').where('id', '=', staff.id).executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    const res = await t.app.inject({ method: 'GET', url: `/api/v1/staff-users/${staff.id}`, headers: staff.auth });
    expect(JSON.stringify(res.json())).not.toMatch(/argon2|password/i);
  });
  async function resetMailFor(email: string): Promise<string> {
    const mail = await t.app.deps.db.selectFrom('outbox').select(['text_body', 'kind']).where('to_address', '=', email).where('kind', '=', 'staff.reset').orderBy('id', 'desc').executeTakeFirstOrThrow();
    const token = /#token=([A-Za-z0-9_-]+)/.exec(mail.text_body)?.[1];
    if (token === undefined) throw new Error('no link in the reset mail');
    return token;
  }

  test('C4 a staff user who forgot the password gets a one-hour, one-use link by mail; it sets a new password and ends every session', async () => {
    const staff = await createStaff(t);
    const old = await signIn(staff.email, staff.password);
    const oldCookie = cookieOf(old);
    const asked = await t.app.inject({ method: 'POST', url: '/api/v1/auth/password-reset', payload: { email: staff.email.toUpperCase() }, remoteAddress: '10.9.0.1' });
    expect(asked.statusCode).toBe(202);
    const token = await resetMailFor(staff.email);
    const link = (await t.app.deps.db.selectFrom('outbox').select('text_body').where('to_address', '=', staff.email).executeTakeFirstOrThrow()).text_body;
    expect(link).toContain(`${t.config.publicAppUrl.origin}/app/reset-password#token=`);
    const row = await t.app.deps.db.selectFrom('staff_password_resets').selectAll().where('staff_user_id', '=', staff.id).executeTakeFirstOrThrow();
    expect(row.token_hash).not.toContain(token);

    const weak = await t.app.inject({ method: 'POST', url: '/api/v1/auth/password-reset/confirm', payload: { token, password: 'password1234' } });
    expect(weak.statusCode).toBe(422);
    expect(weak.json().errors[0]).toMatchObject({ path: '/body/password' });

    const next = 'a new and long passphrase 7';
    const done = await t.app.inject({ method: 'POST', url: '/api/v1/auth/password-reset/confirm', payload: { token, password: next } });
    expect(done.statusCode).toBe(204);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie: oldCookie } })).statusCode).toBe(401);
    expect((await signIn(staff.email, staff.password)).statusCode).toBe(401);
    expect((await signIn(staff.email, next)).statusCode).toBe(200);

    const again = await t.app.inject({ method: 'POST', url: '/api/v1/auth/password-reset/confirm', payload: { token, password: 'yet another long passphrase 8' } });
    expect(again.statusCode).toBe(422);
    expect(again.json().code).toBe('RESET_LINK_INVALID');
  });

  test('C4 a reset link expires after an hour, only the newest works, and unknown or disabled addresses get the same answer and no mail', async () => {
    const staff = await createStaff(t);
    await t.app.inject({ method: 'POST', url: '/api/v1/auth/password-reset', payload: { email: staff.email }, remoteAddress: '10.9.0.2' });
    const first = await resetMailFor(staff.email);
    t.clock.advance(60_000);
    await t.app.inject({ method: 'POST', url: '/api/v1/auth/password-reset', payload: { email: staff.email }, remoteAddress: '10.9.0.2' });
    const second = await resetMailFor(staff.email);
    expect(second).not.toBe(first);
    const stale = await t.app.inject({ method: 'POST', url: '/api/v1/auth/password-reset/confirm', payload: { token: first, password: 'a new and long passphrase 9' } });
    expect(stale.json().code).toBe('RESET_LINK_INVALID');
    t.clock.advance(60 * 60_000);
    const late = await t.app.inject({ method: 'POST', url: '/api/v1/auth/password-reset/confirm', payload: { token: second, password: 'a new and long passphrase 9' } });
    expect(late.statusCode).toBe(422);
    expect(late.json().code).toBe('RESET_LINK_INVALID');
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/password-reset/confirm', payload: { token: 'forged', password: 'a new and long passphrase 9' } })).json().code).toBe('RESET_LINK_INVALID');

    const nobody = `${unique('nobody')}@example.com`;
    const unknown = await t.app.inject({ method: 'POST', url: '/api/v1/auth/password-reset', payload: { email: nobody }, remoteAddress: '10.9.0.3' });
    expect(unknown.statusCode).toBe(202);
    const known = await t.app.inject({ method: 'POST', url: '/api/v1/auth/password-reset', payload: { email: staff.email }, remoteAddress: '10.9.0.3' });
    expect(unknown.json()).toEqual(known.json());
    expect(await t.app.deps.db.selectFrom('outbox').select('id').where('to_address', '=', nobody).executeTakeFirst()).toBeUndefined();
    const disabled = await createStaff(t);
    await t.app.deps.db.updateTable('staff_users').set({ disabled_at: t.clock.now() }).where('id', '=', disabled.id).execute();
    await t.app.inject({ method: 'POST', url: '/api/v1/auth/password-reset', payload: { email: disabled.email }, remoteAddress: '10.9.0.3' });
    expect(await t.app.deps.db.selectFrom('outbox').select('id').where('to_address', '=', disabled.email).executeTakeFirst()).toBeUndefined();
  });

  test('C4 reset links are rate limited per address', async () => {
    const staff = await createStaff(t);
    const codes: number[] = [];
    for (let i = 0; i < 7; i++) codes.push((await t.app.inject({ method: 'POST', url: '/api/v1/auth/password-reset', payload: { email: staff.email }, remoteAddress: `10.9.1.${i}` })).statusCode);
    expect(codes.slice(0, 5)).toEqual([202, 202, 202, 202, 202]);
    expect(codes[6]).toBe(429);
  });
});
