import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createStaff, createTestApp, dialects, rowCounts, unique, type TestApp, type TestStaff } from '../helpers/test-app.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 25);

/** Values of every JSON type, and some that are trouble on purpose. */
const nasty = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom('', ' ', '\u0000', 'a\r\nX-Injected: 1', '<script>alert(1)</script>', "' or 1=1 --", '9'.repeat(400), 'x'.repeat(300_000), -1, 0, 1.5, 2 ** 53, -(2 ** 31), 1e308, true, null, [], {}, { __proto__: { admin: true } }),
);

function bodyFor(fields: string[]) {
  return fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.dictionary(fields.length > 0 ? fc.constantFrom(...fields) : fc.string(), nasty, { maxKeys: 6 }),
    fc.record({ ...Object.fromEntries(fields.map((f) => [f, nasty])), unexpected: nasty }, { requiredKeys: [] }),
  );
}

const badIds = fc.constantFrom('0', '-1', 'abc', '1.5', '99999999999999999999', '2147483648', '%00', '1;drop table tickets', '%2e%2e%2fetc', '1e3', ' 1');

describe.each(dialects)('bad input on every write route, %s', (dialect) => {
  let t: TestApp;
  let admin: TestStaff;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    // A bystander takes staff id 1 and token id 1, so generated requests on id 1 never revoke
    // or disable the caller and leave the rest of the run unauthenticated.
    await createStaff(t);
    admin = await createStaff(t, { role: 'admin' });
    // One of everything, so a path id of 1 usually names a real record.
    const s = t.app.services;
    const company = await s.companies.create({ name: 'Fixture Co' });
    const contact = await s.contacts.create({ email: `${unique('c')}@example.com`, primaryCompanyId: company.id });
    await s.lists.create({ name: 'Fixture list', kind: 'static' });
    const pipeline = await s.pipelines.create({ name: 'Fixture', stages: [{ name: 'Open', state: 'open' }, { name: 'Done', state: 'closed' }] });
    const ticket = await s.tickets.create({ subject: 'Fixture ticket', pipelineId: pipeline.pipeline.id, contactIds: [contact.id] }, null);
    const inbox = await s.inboxes.create('Fixture inbox');
    await s.inboxes.addChannel(inbox.inbox.id, { type: 'portal', name: 'Portal' });
    await s.conversations.createThread({ inboxId: inbox.inbox.id, ticketId: ticket.id, subject: 'Fixture thread', message: { bodyText: 'hello' } }, { type: 'system' });
    await s.pipelines.createProperty({ key: 'fixture', label: 'Fixture', type: 'text' });
  });
  afterAll(async () => {
    await t.close();
  });

  const writeRoutes = () => t.app.routeTable.filter((r) => r.url.startsWith('/api/v1/') && ['POST', 'PATCH', 'PUT', 'DELETE'].includes(r.method) && r.url !== '/api/v1/attachments');

  test('C9 generated bad input on every write route: never a 5xx, and a refused request changes no row', async () => {
    const routes = writeRoutes();
    expect(routes.length).toBeGreaterThan(30);
    for (const route of routes) {
      await fc.assert(
        fc.asyncProperty(bodyFor(route.bodyFields), fc.option(badIds, { freq: 3 }), fc.boolean(), async (body, badId, asText) => {
          const url = route.url.replace(/:[A-Za-z]+/g, () => badId ?? '1');
          const before = await rowCounts(t);
          const res = await t.app.inject({
            method: route.method as 'POST',
            url,
            headers: { ...admin.auth, 'content-type': 'application/json' },
            payload: asText ? JSON.stringify(body).slice(0, -1) : JSON.stringify(body),
          });
          expect(res.statusCode, `${route.method} ${url} -> ${res.body.slice(0, 300)}`).toBeLessThan(500);
          if (route.url !== '/api/v1/auth/sign-in') expect(res.statusCode, `${route.method} ${url} lost its authentication`).not.toBe(401);
          if (res.statusCode >= 400) {
            expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
            expect(res.body).not.toMatch(/SQLITE|syntax error|violates|at .*\.js:\d+/i);
            expect(await rowCounts(t), `${route.method} ${url}`).toEqual(before);
          }
        }),
        { numRuns: RUNS },
      );
    }
    // Its time grows with the route table; a slow machine must not fail it.
  }, 180_000);

  test('C9 objects that break the validator itself (an own valueOf that is no function, compared for unique items) are a 400 on every write route', async () => {
    const hostile: unknown[] = [{}, { valueOf: false }, { toString: 1, valueOf: 'x' }];
    for (const route of writeRoutes()) {
      for (const field of route.bodyFields) {
        const url = route.url.replace(/:[A-Za-z]+/g, '1');
        const before = await rowCounts(t);
        const res = await t.app.inject({ method: route.method as 'POST', url, headers: { ...admin.auth, 'content-type': 'application/json' }, payload: JSON.stringify({ [field]: hostile }) });
        expect(res.statusCode, `${route.method} ${url} ${field} -> ${res.body.slice(0, 200)}`).toBeLessThan(500);
        if (res.statusCode >= 400) expect(await rowCounts(t), `${route.method} ${url} ${field}`).toEqual(before);
      }
    }
  });

  test('C9 every read route refuses bad ids and unknown query parameters with 400', async () => {
    const reads = t.app.routeTable.filter((r) => r.method === 'GET' && r.url.startsWith('/api/v1/'));
    expect(reads.length).toBeGreaterThan(20);
    for (const r of reads) {
      if (r.url.includes(':')) {
        for (const bad of ['abc', '0', '-3', '1.5', '99999999999']) {
          const res = await t.app.inject({ method: 'GET', url: r.url.replace(/:[A-Za-z]+/g, bad), headers: admin.auth });
          expect(res.statusCode, `${r.url} with ${bad}`).toBe(400);
          expect(res.json().code).toBe('VALIDATION_FAILED');
        }
      }
      const url = r.url.replace(/:[A-Za-z]+/g, '1');
      const res = await t.app.inject({ method: 'GET', url: `${url}?surprise=1`, headers: admin.auth });
      // Routes with a query schema refuse the unknown parameter; the rest ignore a query string.
      expect([400, 200, 404], url).toContain(res.statusCode);
      expect(res.statusCode, url).toBeLessThan(500);
    }
    const withQuery = ['/api/v1/contacts', '/api/v1/companies', '/api/v1/tickets', '/api/v1/threads', '/api/v1/lists', '/api/v1/staff-users', '/api/v1/api-tokens', '/api/v1/contacts/1/timeline', '/api/v1/threads/1/messages'];
    for (const url of withQuery) {
      const res = await t.app.inject({ method: 'GET', url: `${url}?surprise=1`, headers: admin.auth });
      expect(res.statusCode, url).toBe(400);
      expect(res.json().errors[0].path).toBe('/querystring/surprise');
    }
  });

  test('C9 a NUL character answers 400 on both databases and stores nothing, whether in JSON, a query string or a path', async () => {
    const auth = { ...admin.auth, 'content-type': 'application/json' };
    const escaped = await t.app.inject({ method: 'POST', url: '/api/v1/companies', headers: auth, payload: String.raw`{"name":"Back\\u0000slash"}` });
    expect(escaped.statusCode).toBe(201); // an escaped backslash, then the letters u0000: plain text
    expect(escaped.json()).toMatchObject({ name: String.raw`Back\u0000slash` });
    const before = await rowCounts(t);
    const json = await t.app.inject({ method: 'POST', url: '/api/v1/companies', headers: auth, payload: String.raw`{"name":"Nul\u0000Co"}` });
    expect(json.statusCode).toBe(400);
    expect(json.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
    for (const url of ['/api/v1/contacts?email=%00x', '/api/v1/contacts?email=a%00', '/api/v1/tickets/%00']) {
      const res = await t.app.inject({ method: 'GET', url, headers: admin.auth });
      expect(res.statusCode, url).toBe(400);
    }
    expect(await rowCounts(t)).toEqual(before);
  });

  test('C9 malformed bodies: broken JSON, wrong media type, too large, prototype poisoning, unknown fields, wrong types', async () => {
    const post = (payload: string, contentType = 'application/json') =>
      t.app.inject({ method: 'POST', url: '/api/v1/companies', headers: { ...admin.auth, 'content-type': contentType }, payload });
    const cases: [string, number, string][] = [
      [await post('{"name": '), 400, 'MALFORMED_JSON'],
      [await post(''), 400, 'MALFORMED_JSON'],
      [await post('name=x', 'application/x-www-form-urlencoded'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
      [await post('{"name":"x"}', 'text/plain'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
      [await post(JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) })), 413, 'PAYLOAD_TOO_LARGE'],
      [await post('{"name":"x","__proto__":{"admin":true}}'), 400, 'MALFORMED_JSON'],
      [await post('{"name":"x","constructor":{"prototype":{"admin":true}}}'), 400, 'MALFORMED_JSON'],
      [await post('{"name":"x","color":"red"}'), 400, 'VALIDATION_FAILED'],
      [await post('{"name":42}'), 400, 'VALIDATION_FAILED'],
      [await post('[]'), 400, 'VALIDATION_FAILED'],
      [await post('"just a string"'), 400, 'VALIDATION_FAILED'],
    ].map(([res, status, code]) => [(res as { json: () => { code: string } }).json().code + ` (${(res as { statusCode: number }).statusCode})`, status as number, code as string]);
    for (const [got, status, code] of cases) expect(got).toBe(`${code} (${status})`);

    const unknown = await post('{"name":"x","color":"red"}');
    expect(unknown.json().errors).toEqual([{ path: '/body/color', label: 'Color', message: 'Remove this: it is not a field this request takes.' }]);
    const missing = await post('{}');
    expect(missing.json().errors).toEqual([{ path: '/body/name', label: 'Name', message: 'Fill this in.' }]);
  });

  test('C9 bad ids, cursors, sorts and query values answer 400, a missing record 404', async () => {
    const get = (url: string) => t.app.inject({ method: 'GET', url, headers: admin.auth });
    for (const url of ['/api/v1/tickets/abc', '/api/v1/tickets/0', '/api/v1/tickets/99999999999999', '/api/v1/contacts/1.5', '/api/v1/tickets?limit=0', '/api/v1/tickets?limit=101', '/api/v1/tickets?limit=x', '/api/v1/tickets?status=pending', '/api/v1/tickets?sort=priority', '/api/v1/tickets?cursor=!!!', '/api/v1/tickets?cursor=WyJ4Il0', '/api/v1/tickets?bogus=1', '/api/v1/threads?unassigned=maybe']) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(400);
      expect(res.json().status).toBe(400);
    }
    await t.app.services.contacts.create({ email: `${unique('first')}@example.com` });
    await t.app.services.contacts.create({ email: `${unique('second')}@example.com` });
    const cursor = (await get('/api/v1/contacts?limit=1&sort=email')).json<{ nextCursor: string | null }>().nextCursor;
    expect(cursor).not.toBeNull();
    expect((await get(`/api/v1/contacts?limit=1&sort=-createdAt&cursor=${cursor}`)).json().code).toBe('BAD_CURSOR');
    const missing = await get('/api/v1/tickets/424242');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe('TICKET_NOT_FOUND');
  });
});
