import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { caller, createStaff, createTestApp, dialects, rowCounts, unique, type TestApp, type TestStaff } from '../helpers/test-app.js';

interface Contact { id: number; email: string; firstName: string | null; lastName: string | null; phone: string | null; primaryCompanyId: number | null; companyIds: number[]; updatedAt: string }
interface Company { id: number; name: string; domain: string | null }
interface ContactList { id: number; kind: 'static' | 'active'; filters: unknown[]; memberCount: number }
interface Page<T> { items: T[]; nextCursor: string | null }
interface Problem { code: string; title: string; errors?: { path: string; message: string }[] }
const SORTS = ['email', '-email', 'createdAt', '-createdAt', 'updatedAt', '-updatedAt'];

describe.each(dialects)('contacts, companies and lists on %s', (dialect) => {
  let t: TestApp;
  let staff: TestStaff;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    staff = await createStaff(t);
  });
  afterAll(async () => {
    await t.close();
  });

  const call = caller(() => t, () => staff);

  async function company(name = unique('Co')): Promise<Company> {
    const res = await call('POST', '/api/v1/companies', { name });
    expect(res.statusCode).toBe(201);
    return res.json<Company>();
  }

  async function contact(body: Record<string, unknown> = {}): Promise<Contact> {
    const res = await call('POST', '/api/v1/contacts', { email: `${unique('c')}@example.com`, ...body });
    expect(res.statusCode).toBe(201);
    return res.json<Contact>();
  }

  async function getContact(id: number): Promise<Contact> {
    const res = await call('GET', `/api/v1/contacts/${id}`);
    expect(res.statusCode).toBe(200);
    return res.json<Contact>();
  }

  async function list(body: Record<string, unknown>): Promise<ContactList> {
    const res = await call('POST', '/api/v1/lists', { name: unique('List'), ...body });
    expect(res.statusCode).toBe(201);
    return res.json<ContactList>();
  }

  /** Every contact a query returns, walking all pages. */
  async function walk(query: string, limit = 100): Promise<Contact[]> {
    const out: Contact[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 100; i++) {
      const res = await call('GET', `/api/v1/contacts?${query}&limit=${limit}${cursor === null ? '' : `&cursor=${cursor}`}`);
      expect(res.statusCode).toBe(200);
      const page = res.json<Page<Contact>>();
      out.push(...page.items);
      cursor = page.nextCursor;
      if (cursor === null) return out;
    }
    throw new Error('pagination did not end');
  }

  const members = async (listId: number) => (await walk(`listId=${listId}`)).map((c) => c.id).sort((a, b) => a - b);
  const ids = (...cs: { id: number }[]) => cs.map((c) => c.id).sort((a, b) => a - b);

  test('C1 C9 a contact is created, read, changed and deleted', async () => {
    const co = await company();
    const email = `${unique('Ann')}@Example.com`;
    const created = await contact({ email, firstName: ' Ann ', lastName: 'Lee', phone: '+48 600 000 000', primaryCompanyId: co.id });
    expect(created).toMatchObject({ email, firstName: 'Ann', lastName: 'Lee', phone: '+48 600 000 000', primaryCompanyId: co.id, companyIds: [co.id] });
    expect(await getContact(created.id)).toEqual(created);

    t.clock.advance(1000);
    const changed = await call('PATCH', `/api/v1/contacts/${created.id}`, { firstName: 'Anna', phone: null });
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toMatchObject({ firstName: 'Anna', lastName: 'Lee', phone: null, email });
    expect(changed.json<Contact>().updatedAt).not.toBe(created.updatedAt);

    expect((await call('DELETE', `/api/v1/contacts/${created.id}`)).statusCode).toBe(204);
    const gone = await call('GET', `/api/v1/contacts/${created.id}`);
    expect(gone.statusCode).toBe(404);
    expect(gone.json<Problem>().code).toBe('CONTACT_NOT_FOUND');
    expect((await call('DELETE', `/api/v1/contacts/${created.id}`)).statusCode).toBe(404);
  });

  test('C1 email is unique case-insensitively: 409 EMAIL_TAKEN and no row written', async () => {
    const local = unique('dup');
    const first = await contact({ email: `${local}@Example.com` });
    const before = await rowCounts(t);
    const again = await call('POST', '/api/v1/contacts', { email: `${local.toUpperCase()}@EXAMPLE.COM`, firstName: 'Other' });
    expect(again.statusCode).toBe(409);
    expect(again.json<Problem>().code).toBe('EMAIL_TAKEN');
    expect(await rowCounts(t)).toEqual(before);

    const other = await contact();
    const taken = await call('PATCH', `/api/v1/contacts/${other.id}`, { email: `${local}@EXAMPLE.com`, firstName: 'Changed' });
    expect(taken.statusCode).toBe(409);
    expect(taken.json<Problem>().code).toBe('EMAIL_TAKEN');
    expect(await getContact(other.id)).toEqual(other);
    expect(await getContact(first.id)).toEqual(first);
  });

  test('C1 the primary company is among companyIds; companies link and unlink, and unlinking the primary clears it', async () => {
    const [a, b, c] = [await company(), await company(), await company()];
    const person = await contact({ primaryCompanyId: a.id, companyIds: [b.id] });
    expect(person.primaryCompanyId).toBe(a.id);
    expect(person.companyIds).toEqual(ids(a, b));

    const moved = await call('PATCH', `/api/v1/contacts/${person.id}`, { primaryCompanyId: c.id });
    expect(moved.json()).toMatchObject({ primaryCompanyId: c.id, companyIds: ids(a, b, c) });

    expect((await call('DELETE', `/api/v1/contacts/${person.id}/companies/${b.id}`)).json()).toMatchObject({ primaryCompanyId: c.id, companyIds: ids(a, c) });
    expect((await call('POST', `/api/v1/contacts/${person.id}/companies`, { companyId: b.id })).json()).toMatchObject({ companyIds: ids(a, b, c) });
    const unlinked = await call('DELETE', `/api/v1/contacts/${person.id}/companies/${c.id}`);
    expect(unlinked.statusCode).toBe(200);
    expect(unlinked.json()).toMatchObject({ primaryCompanyId: null, companyIds: ids(a, b) });

    expect((await call('DELETE', `/api/v1/contacts/${person.id}/companies/${c.id}`)).statusCode).toBe(404);
    const unknown = await call('POST', `/api/v1/contacts/${person.id}/companies`, { companyId: 2_000_000_000 });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json<Problem>().code).toBe('COMPANY_NOT_FOUND');

    const before = await rowCounts(t);
    const refused = await call('POST', '/api/v1/contacts', { email: `${unique('c')}@example.com`, primaryCompanyId: 2_000_000_000 });
    expect(refused.statusCode).toBe(422);
    expect(refused.json<Problem>().code).toBe('COMPANY_NOT_FOUND');
    expect(await rowCounts(t)).toEqual(before);
  });

  test('C1 contacts are listed by email prefix (any case), by company (primary or not) and by list', async () => {
    const u = unique('pre');
    const co = await company();
    const a = await contact({ email: `${u}.a@example.com`, primaryCompanyId: co.id });
    const b = await contact({ email: `${u.toUpperCase()}.B@example.com`, companyIds: [co.id] });
    const outsider = await contact({ email: `z${u}@example.com` });
    expect(ids(...(await walk(`email=${u.toUpperCase()}`)))).toEqual(ids(a, b));
    expect(ids(...(await walk(`email=${u}.b`)))).toEqual(ids(b));
    expect(ids(...(await walk(`companyId=${co.id}`)))).toEqual(ids(a, b));

    const group = await list({ kind: 'static' });
    await call('POST', `/api/v1/lists/${group.id}/members`, { contactIds: [b.id, outsider.id] });
    expect(ids(...(await walk(`listId=${group.id}`)))).toEqual(ids(b, outsider));
    expect(ids(...(await walk(`listId=${group.id}&companyId=${co.id}`)))).toEqual(ids(b));
  });

  test('C1 contacts sort by email, creation and last change, both ways; an unknown sort answers 400', async () => {
    const u = unique('srt');
    const c = await contact({ email: `${u}-c@example.com` });
    t.clock.advance(1000);
    const a = await contact({ email: `${u}-a@example.com` });
    t.clock.advance(1000);
    const b = await contact({ email: `${u}-b@example.com` });
    t.clock.advance(1000);
    await call('PATCH', `/api/v1/contacts/${c.id}`, { lastName: 'Changed' });
    const order = async (sort: string) => (await walk(`email=${u}&sort=${sort}`)).map((x) => x.id);
    expect(await order('email')).toEqual([a.id, b.id, c.id]);
    expect(await order('-email')).toEqual([c.id, b.id, a.id]);
    expect(await order('createdAt')).toEqual([c.id, a.id, b.id]);
    expect(await order('-createdAt')).toEqual([b.id, a.id, c.id]);
    expect((await walk(`email=${u}`)).map((x) => x.id)).toEqual([b.id, a.id, c.id]);
    expect(await order('updatedAt')).toEqual([a.id, b.id, c.id]);
    expect(await order('-updatedAt')).toEqual([c.id, b.id, a.id]);
    const bad = await call('GET', '/api/v1/contacts?sort=phone');
    expect(bad.statusCode).toBe(400);
    expect(bad.json<Problem>().code).toBe('VALIDATION_FAILED');
  });

  test('C1 cursor pagination walks every contact exactly once in every sort, ties included', async () => {
    const u = unique('pg');
    const made: Contact[] = [];
    for (const letter of ['g', 'c', 'e', 'a', 'f', 'b', 'd']) made.push(await contact({ email: `${u}-${letter}@example.com` }));
    for (const sort of SORTS) {
      const whole = (await walk(`email=${u}&sort=${sort}`)).map((c) => c.id);
      expect(whole).toHaveLength(7);
      for (const limit of [1, 2, 3]) {
        const paged = (await walk(`email=${u}&sort=${sort}`, limit)).map((c) => c.id);
        expect(paged, `${sort} by ${limit}`).toEqual(whole);
      }
    }
    expect(ids(...(await walk(`email=${u}`, 2)))).toEqual(ids(...made));
  });

  test('C1 a cursor from another sort, or a tampered cursor, answers 400 BAD_CURSOR', async () => {
    const u = unique('cur');
    await contact({ email: `${u}-a@example.com` });
    await contact({ email: `${u}-b@example.com` });
    const first = await call('GET', `/api/v1/contacts?email=${u}&sort=email&limit=1`);
    const cursor = first.json<Page<Contact>>().nextCursor!;
    expect(cursor).toEqual(expect.any(String));
    expect((await call('GET', `/api/v1/contacts?email=${u}&sort=email&limit=1&cursor=${cursor}`)).statusCode).toBe(200);
    const forge = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const bad = [
      ['-email', cursor],
      ['createdAt', cursor],
      ['email', `${cursor.slice(0, -2)}!!`],
      ['email', forge({ sort: 'email' })],
      ['email', forge(['email', 'x@example.com', 1.5])],
      ['-createdAt', forge(['-createdAt', 'not a number', 1])],
      ['updatedAt', forge(['updatedAt', 'not a number', 1])],
    ];
    for (const [sort, raw] of bad) {
      const res = await call('GET', `/api/v1/contacts?email=${u}&sort=${sort}&cursor=${encodeURIComponent(raw!)}`);
      expect(res.statusCode, `${sort} ${raw}`).toBe(400);
      expect(res.json<Problem>().code).toBe('BAD_CURSOR');
    }
  });

  test('C1 companies are created, read, changed, listed by name prefix and deleted', async () => {
    const u = unique('Acme');
    const created = await call('POST', '/api/v1/companies', { name: `${u} Widgets`, domain: 'Widgets.Example.COM' });
    expect(created.statusCode).toBe(201);
    const widgets = created.json<Company>();
    expect(widgets).toMatchObject({ name: `${u} Widgets`, domain: 'widgets.example.com' });
    const tools = await company(`${u} Tools`);
    const smile = await company(`${u}😀 Smiles`);
    await company(`Not ${u}`);
    expect((await call('GET', `/api/v1/companies/${widgets.id}`)).json()).toEqual(widgets);

    const patched = await call('PATCH', `/api/v1/companies/${widgets.id}`, { name: `${u} Gadgets`, domain: null });
    expect(patched.json()).toMatchObject({ name: `${u} Gadgets`, domain: null });

    const listed = await call('GET', `/api/v1/companies?name=${encodeURIComponent(u)}`);
    expect(listed.json<Page<Company>>().items.map((c) => c.name)).toEqual([`${u} Gadgets`, `${u} Tools`, `${u}😀 Smiles`]);
    const paged = await call('GET', `/api/v1/companies?name=${encodeURIComponent(u)}&limit=2`);
    const next = await call('GET', `/api/v1/companies?name=${encodeURIComponent(u)}&limit=2&cursor=${paged.json<Page<Company>>().nextCursor!}`);
    expect(paged.json<Page<Company>>().items.map((c) => c.id)).toEqual([widgets.id, tools.id]);
    expect(next.json<Page<Company>>().items.map((c) => c.id)).toEqual([smile.id]);

    expect((await call('DELETE', `/api/v1/companies/${widgets.id}`)).statusCode).toBe(204);
    expect((await call('GET', `/api/v1/companies/${widgets.id}`)).json<Problem>().code).toBe('COMPANY_NOT_FOUND');
  });

  test("C1 deleting a company clears contacts' primary and association, and their active lists", async () => {
    const [doomed, kept] = [await company(), await company()];
    const person = await contact({ primaryCompanyId: doomed.id, companyIds: [kept.id] });
    const other = await contact({ companyIds: [doomed.id] });
    const byCompany = await list({ kind: 'active', filters: [{ property: 'companyId', operator: 'is', value: doomed.id }] });
    expect(await members(byCompany.id)).toEqual(ids(person, other));

    expect((await call('DELETE', `/api/v1/companies/${doomed.id}`)).statusCode).toBe(204);
    expect(await getContact(person.id)).toMatchObject({ primaryCompanyId: null, companyIds: [kept.id] });
    expect(await getContact(other.id)).toMatchObject({ primaryCompanyId: null, companyIds: [] });
    expect(await members(byCompany.id)).toEqual([]);
  });

  test('C1 a static list gains and loses members; an active list refuses them; unknown contacts add nothing', async () => {
    const [a, b, c] = [await contact(), await contact(), await contact()];
    const group = await list({ kind: 'static' });
    expect(group).toMatchObject({ kind: 'static', filters: [], memberCount: 0 });
    const added = await call('POST', `/api/v1/lists/${group.id}/members`, { contactIds: [a.id, b.id] });
    expect(added.statusCode).toBe(200);
    expect(added.json<ContactList>().memberCount).toBe(2);
    expect((await call('POST', `/api/v1/lists/${group.id}/members`, { contactIds: [b.id] })).json<ContactList>().memberCount).toBe(2);
    expect((await call('DELETE', `/api/v1/lists/${group.id}/members/${a.id}`)).statusCode).toBe(204);
    expect((await call('DELETE', `/api/v1/lists/${group.id}/members/${a.id}`)).statusCode).toBe(404);
    expect(await members(group.id)).toEqual([b.id]);

    const before = await rowCounts(t);
    const unknown = await call('POST', `/api/v1/lists/${group.id}/members`, { contactIds: [c.id, 2_000_000_000] });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json<Problem>()).toMatchObject({ code: 'CONTACT_NOT_FOUND', errors: [{ path: '/body/contactIds/1' }] });
    expect(await rowCounts(t)).toEqual(before);
    expect(await members(group.id)).toEqual([b.id]);

    const active = await list({ kind: 'active', filters: [{ property: 'email', operator: 'is', value: a.email }] });
    const refused = await call('POST', `/api/v1/lists/${active.id}/members`, { contactIds: [b.id] });
    expect(refused.statusCode).toBe(422);
    expect(refused.json<Problem>().code).toBe('LIST_IS_ACTIVE');
    expect((await call('DELETE', `/api/v1/lists/${active.id}/members/${a.id}`)).json<Problem>().code).toBe('LIST_IS_ACTIVE');
    expect(await members(active.id)).toEqual([a.id]);
  });

  test('P3 P10 P13 a list that decides who may use a portal is changed only by staff with the portal settings permission, and never deleted from under it', async () => {
    const [a, b] = [await contact(), await contact()];
    const gate = await list({ kind: 'static' });
    const sso = await list({ kind: 'active', filters: [{ property: 'email', operator: 'is', value: a.email }] });
    const plain = await list({ kind: 'static' });
    const portal = await t.app.services.portals.create({ name: unique('Gated'), domain: `${unique('gate').toLowerCase()}.example.com`, consentText: 'ok' });
    await t.app.services.portals.update(portal.id, { accessListIds: [gate.id], ssoListIds: [sso.id] });
    const agent = staff;
    const settings = await createStaff(t, { permissions: ['portal_settings'] });
    const as = (who: TestStaff, method: 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
      t.app.inject({ method, url, headers: who.auth, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) });

    const before = await rowCounts(t);
    for (const refused of [
      await as(agent, 'POST', `/api/v1/lists/${gate.id}/members`, { contactIds: [a.id] }),
      await as(agent, 'PATCH', `/api/v1/lists/${sso.id}`, { filters: [{ property: 'email', operator: 'is', value: b.email }] }),
    ]) {
      expect(refused.statusCode).toBe(403);
      expect(refused.json<Problem>().title).toContain('customer portal');
      expect(refused.json<Problem>().title).not.toMatch(/portal_settings|P10/);
    }
    expect(await rowCounts(t)).toEqual(before);
    expect(await members(sso.id)).toEqual([a.id]);
    // A list no portal names, and a new name for one that a portal does: any agent.
    expect((await as(agent, 'POST', `/api/v1/lists/${plain.id}/members`, { contactIds: [a.id] })).statusCode).toBe(200);
    expect((await as(agent, 'PATCH', `/api/v1/lists/${gate.id}`, { name: unique('Renamed') })).statusCode).toBe(200);
    expect((await as(settings, 'POST', `/api/v1/lists/${gate.id}/members`, { contactIds: [a.id] })).statusCode).toBe(200);
    expect((await as(agent, 'DELETE', `/api/v1/lists/${gate.id}/members/${a.id}`)).statusCode).toBe(403);
    expect(await members(gate.id)).toEqual([a.id]);
    // Deleting it would open the portal to every member: refused for anyone, with what to do instead.
    const deleted = await as(settings, 'DELETE', `/api/v1/lists/${gate.id}`);
    expect(deleted.statusCode).toBe(409);
    expect(deleted.json<Problem>()).toMatchObject({ code: 'LIST_IN_USE' });
    expect(deleted.json<Problem>().title).toContain(portal.name);
    await t.app.services.portals.update(portal.id, { accessListIds: [], ssoListIds: [] });
    expect((await as(agent, 'DELETE', `/api/v1/lists/${gate.id}`)).statusCode).toBe(204);
  });

  test('C1 an active list holds exactly the contacts matching all its filters when it is created', async () => {
    const u = unique('acme');
    const [x, y] = [await company(), await company()];
    const m1 = await contact({ email: `ann@${u}.example`, firstName: 'Ann', primaryCompanyId: x.id });
    const m2 = await contact({ email: `BO@${u.toUpperCase()}.example`, firstName: 'Bo', companyIds: [y.id, x.id] });
    await contact({ email: `cy@${u}.example`, firstName: '  ', primaryCompanyId: x.id });
    await contact({ email: `di@other-${u}.example`, firstName: 'Di', primaryCompanyId: x.id });
    await contact({ email: `ed@${u}.example`, firstName: 'Ed', primaryCompanyId: y.id });
    await contact({ email: `fi@${u}.example`, firstName: 'Fi' });
    const active = await list({
      kind: 'active',
      filters: [
        { property: 'companyId', operator: 'is', value: x.id },
        { property: 'email', operator: 'contains', value: `@${u.toUpperCase()}` },
        { property: 'firstName', operator: 'is_known' },
      ],
    });
    expect(active.memberCount).toBe(2);
    expect(await members(active.id)).toEqual(ids(m1, m2));
  });

  test('C1 an active list stays current as contacts are created, changed, linked, unlinked and deleted', async () => {
    const u = unique('live');
    const [x, y] = [await company(), await company()];
    const byAll = await list({
      kind: 'active',
      filters: [
        { property: 'companyId', operator: 'is', value: x.id },
        { property: 'email', operator: 'contains', value: `@${u}` },
        { property: 'firstName', operator: 'is_known' },
      ],
    });
    const byPrimary = await list({ kind: 'active', filters: [{ property: 'primaryCompanyId', operator: 'is', value: y.id }] });
    const person = await contact({ email: `cy@${u}.example`, firstName: 'Cy', companyIds: [x.id] });
    const patch = (body: object) => call('PATCH', `/api/v1/contacts/${person.id}`, body);
    expect(await members(byAll.id)).toEqual([person.id]);

    await patch({ email: `cy@elsewhere-${u}.example` });
    expect(await members(byAll.id)).toEqual([]);
    await patch({ email: `cy@${u}.example` });
    expect(await members(byAll.id)).toEqual([person.id]);
    await patch({ firstName: null });
    expect(await members(byAll.id)).toEqual([]);
    await patch({ firstName: 'Cyril' });
    expect(await members(byAll.id)).toEqual([person.id]);

    await call('DELETE', `/api/v1/contacts/${person.id}/companies/${x.id}`);
    expect(await members(byAll.id)).toEqual([]);
    await call('POST', `/api/v1/contacts/${person.id}/companies`, { companyId: x.id });
    expect(await members(byAll.id)).toEqual([person.id]);

    expect(await members(byPrimary.id)).toEqual([]);
    await patch({ primaryCompanyId: y.id });
    expect(await members(byPrimary.id)).toEqual([person.id]);
    await patch({ primaryCompanyId: null });
    expect(await members(byPrimary.id)).toEqual([]);
    await patch({ primaryCompanyId: y.id });
    await call('DELETE', `/api/v1/contacts/${person.id}/companies/${y.id}`);
    expect(await members(byPrimary.id)).toEqual([]);

    expect((await call('DELETE', `/api/v1/contacts/${person.id}`)).statusCode).toBe(204);
    expect((await call('GET', `/api/v1/lists/${byAll.id}`)).json<ContactList>().memberCount).toBe(0);
  });

  test("C1 changing an active list's filters rebuilds its members", async () => {
    const u = unique('rb');
    const a = await contact({ email: `a@${u}.example`, lastName: 'Smith' });
    const b = await contact({ email: `b@${u}.example`, lastName: 'Jones' });
    const c = await contact({ email: `c@${u}.example` });
    const active = await list({ kind: 'active', filters: [{ property: 'email', operator: 'contains', value: `@${u}` }] });
    expect(await members(active.id)).toEqual(ids(a, b, c));

    const narrowed = await call('PATCH', `/api/v1/lists/${active.id}`, {
      filters: [{ property: 'email', operator: 'contains', value: `@${u}` }, { property: 'lastName', operator: 'is_any_of', values: ['Smith', 'Jones'] }],
    });
    expect(narrowed.statusCode).toBe(200);
    expect(narrowed.json<ContactList>().memberCount).toBe(2);
    expect(await members(active.id)).toEqual(ids(a, b));

    await call('PATCH', `/api/v1/lists/${active.id}`, { name: unique('Renamed') });
    expect(await members(active.id)).toEqual(ids(a, b));
    await call('PATCH', `/api/v1/lists/${active.id}`, { filters: [{ property: 'email', operator: 'starts_with', value: `C@${u}` }] });
    expect(await members(active.id)).toEqual([c.id]);
  });

  test('C1 an invalid filter answers 422 INVALID_FILTER naming the path, and writes nothing', async () => {
    const person = await contact({ firstName: 'Valid' });
    const cases: [object[], string][] = [
      [[{ property: 'shoeSize', operator: 'is', value: 42 }], '/body/filters/0/property'],
      [[{ property: 'email', operator: 'contains', value: 'x' }, { property: 'companyId', operator: 'is', value: 'acme' }], '/body/filters/1/value'],
      [[{ property: 'firstName', operator: 'is' }], '/body/filters/0'],
      [[{ property: 'firstName', operator: 'is_known', value: 'x' }], '/body/filters/0'],
      [[{ property: 'companyId', operator: 'contains', value: 3 }], '/body/filters/0/operator'],
    ];
    const before = await rowCounts(t);
    for (const [filters, path] of cases) {
      const res = await call('POST', '/api/v1/lists', { name: unique('Bad'), kind: 'active', filters });
      expect(res.statusCode, path).toBe(422);
      const problem = res.json<Problem>();
      expect(problem.code).toBe('INVALID_FILTER');
      expect(problem.errors?.map((e) => e.path)).toContain(path);
    }
    expect(await rowCounts(t)).toEqual(before);

    const good = [{ property: 'email', operator: 'is', value: person.email }];
    const active = await list({ kind: 'active', filters: good });
    for (const [filters, path] of cases) {
      const res = await call('PATCH', `/api/v1/lists/${active.id}`, { filters });
      expect(res.statusCode, path).toBe(422);
      expect(res.json<Problem>().code).toBe('INVALID_FILTER');
    }
    expect((await call('GET', `/api/v1/lists/${active.id}`)).json()).toMatchObject({ filters: good, memberCount: 1 });
  });
});
