import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { caller, createStaff, createTestApp, dialects, rowCounts, unique, type TestApp, type TestStaff } from '../helpers/test-app.js';
import { cookiesOf, postPortalForm } from '../helpers/portal-forms.js';

// P10: access by contact lists. The admin names lists; their contacts are invited by mail with
// a link to set a password (7 days, the newest link only); joining a list later invites; leaving
// every list closes the portal to them at the next request.

interface Fixture {
  host: string;
  slug: string;
  portalId: number;
}

describe.each(dialects)('portal access by contact lists on %s', (dialect) => {
  let t: TestApp;
  let admin: TestStaff;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await createStaff(t, { permissions: ['portal_settings'] });
  });
  afterAll(async () => {
    await t.close();
  });
  const call = caller(() => t, () => admin);

  let ipCounter = 0;
  const freshIp = () => `10.55.${Math.floor(++ipCounter / 250)}.${ipCounter % 250}`;

  async function portal(options: { enabled?: boolean; language?: 'en' | 'pl'; selfRegistration?: boolean } = {}): Promise<Fixture> {
    const host = `${unique('lists').toLowerCase()}.example.com`;
    const p = await t.app.services.portals.create({ name: 'Acme Help', domain: host, consentText: 'ok', consentLabel: 'I agree', language: options.language ?? 'en', selfRegistration: options.selfRegistration ?? false });
    if (options.enabled ?? true) await t.app.services.portals.update(p.id, { enabled: true });
    return { host, slug: p.slug, portalId: p.id };
  }
  const contact = async (domain = 'example.com') => t.app.services.contacts.create({ email: `${unique('c')}@${domain}`, firstName: 'Lena', lastName: 'List' });
  const staticList = async (contactIds: number[]) => {
    const list = await t.app.services.lists.create({ name: unique('L'), kind: 'static' });
    if (contactIds.length > 0) await t.app.services.lists.addMembers(list.id, contactIds);
    return list;
  };
  const mails = (to: string, kind = 'member.invite') => t.app.deps.db.selectFrom('outbox').selectAll().where('to_address', '=', to).where('kind', '=', kind).orderBy('id').execute();
  async function inviteLink(to: string): Promise<string> {
    const text = (await mails(to)).at(-1)?.text_body ?? '';
    const url = /https?:\/\/\S+/.exec(text)?.[0];
    if (url === undefined) throw new Error(`no invitation for ${to}`);
    return new URL(url).pathname;
  }
  const get = (f: Fixture, url: string, headers: Record<string, string> = {}) => t.app.inject({ method: 'GET', url, headers: { host: f.host, ...headers }, remoteAddress: freshIp() });
  const postForm = (f: Fixture, pageUrl: string, action: string, fields: Record<string, string>) => postPortalForm(t.app, f.host, pageUrl, action, fields, { ip: freshIp() });
  const signIn = (f: Fixture, email: string, password: string) => postForm(f, `/${f.slug}/sign-in`, `/${f.slug}/sign-in`, { email, password, next: `/${f.slug}` });
  const memberOf = (f: Fixture, contactId: number) => t.app.deps.db.selectFrom('members').selectAll().where('portal_id', '=', f.portalId).where('contact_id', '=', contactId).executeTakeFirst();

  test('P10 naming lists invites every contact on them, in the portal’s language; an unknown list is refused and nothing changes', async () => {
    const f = await portal({ language: 'pl' });
    const [a, b] = [await contact(), await contact()];
    const list = await staticList([a.id, b.id]);
    const before = await rowCounts(t);
    const refused = await call('PATCH', `/api/v1/portals/${f.portalId}`, { accessListIds: [list.id, 999999] });
    expect(refused.statusCode).toBe(422);
    expect(refused.json().errors).toEqual([{ path: '/body/accessListIds/1', label: 'Access list IDs, item 2', message: 'There is no list 999999: choose one that exists.' }]);
    expect(await rowCounts(t)).toEqual(before);

    const ok = await call('PATCH', `/api/v1/portals/${f.portalId}`, { accessListIds: [list.id] });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().accessListIds).toEqual([list.id]);
    for (const c of [a, b]) {
      expect(await memberOf(f, c.id)).toMatchObject({ password_hash: null, verified_at: null });
      const [mail] = await mails(c.email);
      expect(mail).toMatchObject({ subject: 'Zaproszenie do Acme Help', to_name: 'Lena List', portal_id: f.portalId });
      expect(mail!.text_body).toContain('Link działa przez 7 dni.');
    }
    // Saving the same lists again invites nobody twice.
    await call('PATCH', `/api/v1/portals/${f.portalId}`, { accessListIds: [list.id] });
    expect(await mails(a.email)).toHaveLength(1);
  });

  test('P10 the invited contact sets a password from the link and is signed in; the link works once, for 7 days; a password staff set needs no confirmation', async () => {
    const f = await portal();
    const [a, b] = [await contact(), await contact()];
    await call('PATCH', `/api/v1/portals/${f.portalId}`, { accessListIds: [(await staticList([a.id, b.id])).id] });
    const link = await inviteLink(a.email);
    const form = await get(f, link);
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain('Choose a new password');
    const weak = await postForm(f, link, link, { password: 'password1' });
    expect(weak.statusCode).toBe(400);
    const done = await postForm(f, link, link, { password: 'lena lists her tickets' });
    expect(done.statusCode).toBe(303);
    const session = cookiesOf(done).portico_member!;
    expect((await get(f, `/${f.slug}`, { cookie: `portico_member=${session}` })).statusCode).toBe(200);
    expect((await memberOf(f, a.id))!.verified_at).toBe(t.clock.now());
    expect((await get(f, link)).statusCode).toBe(400);
    expect((await signIn(f, a.email, 'lena lists her tickets')).statusCode).toBe(303);

    const late = await inviteLink(b.email);
    t.clock.advance(7 * 24 * 3_600_000);
    expect((await get(f, late)).statusCode).toBe(400);
    expect((await postForm(f, `/${f.slug}/sign-in`, late, { password: 'lena lists her tickets' })).statusCode).toBe(400);
    expect((await memberOf(f, b.id))!.password_hash).toBeNull();

    // Staff set the password of an invited member instead: they vouch for the address, so the
    // member signs in at once, with no link to confirm it.
    const byStaff = (await memberOf(f, b.id))!;
    expect(byStaff.verified_at).toBeNull();
    expect((await call('PATCH', `/api/v1/portals/${f.portalId}/members/${byStaff.id}`, { password: 'set by the help desk' })).statusCode).toBe(200);
    expect((await memberOf(f, b.id))!.verified_at).toBe(t.clock.now());
    const signedIn = await signIn(f, b.email, 'set by the help desk');
    expect(signedIn.statusCode).toBe(303);
    expect(await t.app.deps.db.selectFrom('outbox').select('id').where('to_address', '=', b.email).where('kind', '=', 'member.verify').execute()).toEqual([]);
  });

  test('P10 joining a list later invites at once; leaving every list ends the member’s sessions and sign-in links at once; rejoining opens the portal to a new sign-in only', async () => {
    const f = await portal();
    const domain = `${unique('corp').toLowerCase()}.example`;
    const stat = await staticList([]);
    const active = await t.app.services.lists.create({ name: unique('A'), kind: 'active', filters: [{ property: 'email', operator: 'contains', value: `@${domain}` }] });
    await call('PATCH', `/api/v1/portals/${f.portalId}`, { accessListIds: [stat.id, active.id] });

    const joiner = await contact();
    expect(await mails(joiner.email)).toEqual([]);
    await t.app.services.lists.addMembers(stat.id, [joiner.id]);
    expect(await mails(joiner.email)).toHaveLength(1);
    const matching = await contact(domain);
    expect(await mails(matching.email)).toHaveLength(1);

    const link = await inviteLink(joiner.email);
    const session = cookiesOf(await postForm(f, link, link, { password: 'joiner passphrase ok' })).portico_member!;
    const list = () => get(f, `/${f.slug}`, { cookie: `portico_member=${session}` });
    expect((await list()).statusCode).toBe(200);
    // A password reset asked for while on the list, and opened only after leaving and rejoining it.
    await postForm(f, `/${f.slug}/password-reset`, `/${f.slug}/password-reset`, { email: joiner.email });
    const resetText = (await mails(joiner.email, 'member.reset')).at(-1)?.text_body ?? '';
    const resetLink = new URL(/https?:\/\/\S+/.exec(resetText)?.[0] ?? 'http://x/none').pathname;
    await t.app.services.lists.removeMember(stat.id, joiner.id);
    expect(await t.app.deps.db.selectFrom('member_sessions as s').innerJoin('members as m', 'm.id', 's.member_id').select('s.id_hash').where('m.contact_id', '=', joiner.id).execute()).toEqual([]);
    expect((await list()).statusCode).toBe(303);
    const denied = await signIn(f, joiner.email, 'joiner passphrase ok');
    expect(denied.statusCode).toBe(403);
    expect(denied.body).toContain('Access denied');
    expect(cookiesOf(denied).portico_member).toBeUndefined();
    await t.app.services.lists.addMembers(stat.id, [joiner.id]);
    // Back on the list: the old session and the old link stay dead; signing in again works.
    expect((await list()).statusCode).toBe(303);
    expect((await get(f, resetLink)).statusCode).toBe(400);
    expect((await signIn(f, joiner.email, 'joiner passphrase ok')).statusCode).toBe(303);
    expect(await mails(joiner.email)).toHaveLength(1);

    // Moving out of the active list's filter is leaving it too.
    const mlink = await inviteLink(matching.email);
    const msession = cookiesOf(await postForm(f, mlink, mlink, { password: 'matching passphrase' })).portico_member!;
    expect((await get(f, `/${f.slug}`, { cookie: `portico_member=${msession}` })).statusCode).toBe(200);
    await t.app.services.contacts.update(matching.id, { email: `${unique('moved')}@elsewhere.example` });
    expect((await get(f, `/${f.slug}`, { cookie: `portico_member=${msession}` })).statusCode).toBe(303);

    // The portal dropping a list from its access lists is leaving it too; so is being disabled.
    const third = await contact();
    const other = await staticList([third.id]);
    await call('PATCH', `/api/v1/portals/${f.portalId}`, { accessListIds: [stat.id, active.id, other.id] });
    const tlink = await inviteLink(third.email);
    const tsession = cookiesOf(await postForm(f, tlink, tlink, { password: 'third passphrase ok' })).portico_member!;
    expect((await get(f, `/${f.slug}`, { cookie: `portico_member=${tsession}` })).statusCode).toBe(200);
    await call('PATCH', `/api/v1/portals/${f.portalId}`, { accessListIds: [stat.id, active.id] });
    await call('PATCH', `/api/v1/portals/${f.portalId}`, { accessListIds: [stat.id, active.id, other.id] });
    expect((await get(f, `/${f.slug}`, { cookie: `portico_member=${tsession}` })).statusCode).toBe(303);
    const again = cookiesOf(await signIn(f, third.email, 'third passphrase ok')).portico_member!;
    const thirdMember = (await memberOf(f, third.id))!;
    await call('PATCH', `/api/v1/portals/${f.portalId}/members/${thirdMember.id}`, { disabled: true });
    await call('PATCH', `/api/v1/portals/${f.portalId}/members/${thirdMember.id}`, { disabled: false });
    expect((await get(f, `/${f.slug}`, { cookie: `portico_member=${again}` })).statusCode).toBe(303);
  });

  test('P9 P10 a disabled portal invites nobody until it is enabled; while lists are set registration is not offered; a registrant from before the lists cannot confirm', async () => {
    const f = await portal({ enabled: false, selfRegistration: true });
    const a = await contact();
    const gate = await staticList([a.id]);
    await call('PATCH', `/api/v1/portals/${f.portalId}`, { accessListIds: [gate.id] });
    expect(await mails(a.email)).toEqual([]);
    await call('PATCH', `/api/v1/portals/${f.portalId}`, { enabled: true });
    expect(await mails(a.email)).toHaveLength(1);

    // Lists decide who may sign in: no registration link, no registration page, no mail sent.
    const signInPage = await get(f, `/${f.slug}/sign-in`);
    expect(signInPage.body).not.toContain(`/${f.slug}/register`);
    expect((await get(f, `/${f.slug}/register`)).statusCode).toBe(404);
    const email = `${unique('outsider')}@example.com`;
    const refused = await postForm(f, `/${f.slug}/sign-in`, `/${f.slug}/register`, { name: 'Out Sider', email, password: 'an outsider passphrase', consent: 'yes' });
    expect(refused.statusCode).toBe(404);
    expect(await mails(email, 'member.verify')).toEqual([]);

    // Without lists it is offered again (the admin's choice was kept); someone registers, then lists come back.
    await call('PATCH', `/api/v1/portals/${f.portalId}`, { accessListIds: [] });
    expect((await get(f, `/${f.slug}/sign-in`)).body).toContain(`/${f.slug}/register`);
    const registered = await postForm(f, `/${f.slug}/register`, `/${f.slug}/register`, { name: 'Out Sider', email, password: 'an outsider passphrase', consent: 'yes' });
    expect(registered.statusCode).toBe(200);
    await call('PATCH', `/api/v1/portals/${f.portalId}`, { accessListIds: [gate.id] });
    const text = (await mails(email, 'member.verify'))[0]!.text_body;
    const link = new URL(/https?:\/\/\S+/.exec(text)![0]).pathname;
    const browser = `portico_registration=${cookiesOf(registered).portico_registration!}`;
    // Lists that leave the registrant out void the confirmation link (the hardening of access lost).
    const opened = await get(f, link, { cookie: browser });
    expect(opened.body).not.toContain('name="csrf"');
    expect(cookiesOf(opened).portico_member).toBeUndefined();
    expect((await memberOf(f, (await t.app.deps.db.selectFrom('contacts').select('id').where('email_key', '=', email.toLowerCase()).executeTakeFirstOrThrow()).id))?.verified_at).toBeNull();
  });

  test('P10 before saving lists, staff learn how many members would lose access and who, and nothing changes', async () => {
    const f = await portal();
    const stay = await contact();
    const goners = [await contact(), await contact()];
    const members = [stay, ...goners];
    for (const c of members) await t.app.services.portals.createMember(f.portalId, c.id, 'a long enough passphrase 1');
    const disabled = await contact();
    const off = await t.app.services.portals.createMember(f.portalId, disabled.id, 'a long enough passphrase 1');
    await t.app.deps.db.updateTable('members').set({ disabled_at: t.clock.now() }).where('id', '=', off.id).execute();
    const gate = await staticList([stay.id]);
    const before = await rowCounts(t);
    const res = await call('POST', `/api/v1/portals/${f.portalId}/members-losing-access`, { accessListIds: [gate.id] });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ count: 2, first: goners.map((c) => ({ name: 'Lena List', email: c.email })) });
    expect(await rowCounts(t)).toEqual(before);
    expect((await call('POST', `/api/v1/portals/${f.portalId}/members-losing-access`, { accessListIds: [] })).json()).toEqual({ count: 0, first: [] });
    // Once saved, those already shut out are not counted again.
    await call('PATCH', `/api/v1/portals/${f.portalId}`, { accessListIds: [gate.id] });
    expect((await call('POST', `/api/v1/portals/${f.portalId}/members-losing-access`, { accessListIds: [gate.id] })).json().count).toBe(0);
    const agent = await createStaff(t);
    expect((await call('POST', `/api/v1/portals/${f.portalId}/members-losing-access`, { accessListIds: [gate.id] }, agent)).statusCode).toBe(403);
    expect((await call('POST', '/api/v1/portals/999999/members-losing-access', { accessListIds: [] })).statusCode).toBe(404);
  });

  test('P10 staff send a new invitation; the old link stops working; a member with a password or unknown is refused', async () => {
    const f = await portal();
    const a = await contact();
    await call('PATCH', `/api/v1/portals/${f.portalId}`, { accessListIds: [(await staticList([a.id])).id] });
    const first = await inviteLink(a.email);
    const member = (await memberOf(f, a.id))!;
    const url = `/api/v1/portals/${f.portalId}/members/${member.id}/invitation`;
    expect((await call('POST', url)).statusCode).toBe(204);
    const second = await inviteLink(a.email);
    expect(second).not.toBe(first);
    expect((await get(f, first)).statusCode).toBe(400);
    expect((await get(f, second)).statusCode).toBe(200);
    const agent = await createStaff(t, { permissions: ['manage_settings'] });
    expect((await call('POST', url, undefined, agent)).statusCode).toBe(403);
    expect((await call('POST', `/api/v1/portals/${f.portalId}/members/999999/invitation`)).statusCode).toBe(404);
    await postForm(f, second, second, { password: 'a settled passphrase' });
    const again = await call('POST', url);
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('MEMBER_HAS_PASSWORD');
  });
});
