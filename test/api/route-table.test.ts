import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createStaff, createTestApp, dialects, unique, type TestApp } from '../helpers/test-app.js';

/** Routes that stream bytes or text instead of JSON, and so carry no response schema. */
// The staff app's page and files are static; what it shows comes from the JSON API.
const NON_JSON = new Set(['GET /api/v1/portals/:id/logo', 'GET /app', 'GET /app/*', 'GET /app/assets/:file', 'GET /app/portal.css', 'GET /metrics', 'GET /api/openapi.json', 'GET /api/v1/attachments/:id/content', 'GET /api/v1/inbound-mail/:id/raw']);

function concrete(url: string): string {
  return url.replace(/:[A-Za-z]+/g, '1');
}

describe.each(dialects)('the route table on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(async () => {
    await t.close();
  });

  const routes = () => t.app.routeTable.filter((r) => r.method !== 'HEAD');

  test('C9 the table is not empty and every route declares who may call it', () => {
    expect(routes().length).toBeGreaterThan(50);
    for (const r of routes()) expect(['public', 'staff', 'portal_settings', 'manage_settings', 'manage_staff', 'portal', 'member']).toContain(r.access);
    const publicRoutes = routes().filter((r) => r.access === 'public').map((r) => `${r.method} ${r.url}`).sort();
    expect(publicRoutes).toEqual(['GET /', 'GET /api/openapi.json', 'GET /app', 'GET /app/*', 'GET /app/assets/:file', 'GET /app/portal.css', 'GET /healthz', 'GET /metrics', 'GET /readyz', 'POST /api/v1/auth/password-reset', 'POST /api/v1/auth/password-reset/confirm', 'POST /api/v1/auth/sign-in']);
  });

  test('C9 no route answers without its declared authentication', async () => {
    for (const r of routes()) {
      if (r.access === 'public') continue;
      if (r.access === 'portal' || r.access === 'member') {
        // Portal pages exist only on a portal's host (test/api/portal-pages.test.ts).
        const res = await t.app.inject({ method: r.method as 'GET', url: concrete(r.url), payload: r.method === 'GET' ? undefined : {} });
        expect(res.statusCode, `${r.method} ${r.url}`).toBe(404);
        continue;
      }
      for (const headers of [{}, { authorization: 'Bearer ptk_invalid' }, { cookie: 'portico_staff=forged' }]) {
        const res = await t.app.inject({ method: r.method as 'GET', url: concrete(r.url), headers, payload: r.method === 'GET' || r.method === 'DELETE' ? undefined : {} });
        expect(res.statusCode, `${r.method} ${r.url}`).toBe(401);
        expect(res.headers['content-type'], `${r.method} ${r.url}`).toMatch(/^application\/problem\+json/);
        expect(res.json().code).toBe('UNAUTHENTICATED');
      }
    }
  });

  test('C4 C9 routes that need a permission refuse an agent without it, before reading the body', async () => {
    const agent = await createStaff(t);
    const guarded = routes().filter((r) => !['public', 'staff', 'portal', 'member'].includes(r.access));
    expect(guarded.length).toBeGreaterThan(10);
    for (const r of guarded) {
      const res = await t.app.inject({ method: r.method as 'GET', url: concrete(r.url), headers: agent.auth, payload: r.method === 'GET' || r.method === 'DELETE' ? undefined : {} });
      expect(res.statusCode, `${r.method} ${r.url}`).toBe(403);
    }
  });

  test('C9 every JSON route declares its response shape (an allow-list), and the OpenAPI document lists every route', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json<{ openapi: string; paths: Record<string, Record<string, unknown>> }>();
    expect(doc.openapi).toBe('3.1.0');
    for (const r of routes()) {
      const key = `${r.method} ${r.url}`;
      if (r.access === 'portal' || r.access === 'member') continue; // HTML pages, not the API
      if (!NON_JSON.has(key)) {
        expect(r.responseCodes.some((c) => c.startsWith('2')), key).toBe(true);
        if (r.url.startsWith('/api/v1/')) expect(r.responseCodes, key).toContain('400');
      }
      if (!r.url.startsWith('/api/v1/')) continue;
      const path = r.url.replace(/:([A-Za-z]+)/g, '{$1}');
      expect(doc.paths[path]?.[r.method.toLowerCase()], `${key} in OpenAPI`).toBeDefined();
    }
  });

  test('C9 an unknown address and a wrong method answer a problem document, not an HTML page', async () => {
    const staff = await createStaff(t);
    const missing = await t.app.inject({ method: 'GET', url: '/api/v1/nothing-here', headers: staff.auth });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ status: 404, code: 'ROUTE_NOT_FOUND' });
    const wrong = await t.app.inject({ method: 'PUT', url: '/api/v1/contacts', headers: staff.auth, payload: {} });
    expect(wrong.statusCode).toBe(404);
    expect(wrong.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  test('C9 operations endpoints: health, readiness with migrations, Prometheus metrics by route', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', database: 'ok', pendingMigrations: [] });
    const staff = await createStaff(t);
    await t.app.inject({ method: 'GET', url: '/api/v1/contacts/999999', headers: staff.auth });
    const metrics = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.headers['content-type']).toMatch(/^text\/plain/);
    expect(metrics.body).toMatch(/portico_http_requests_total\{method="GET",route="\/api\/v1\/contacts\/:id",status_code="404"\} 1/);
    expect(metrics.body).toContain('portico_http_request_duration_seconds_bucket');
  });

  test('C9 no staff API answer may be kept by a browser or proxy: every /api/v1 answer, errors included, says no-store', async () => {
    const admin = await createStaff(t, { role: 'admin' });
    const gets = routes().filter((r) => r.method === 'GET' && r.url.startsWith('/api/v1/'));
    expect(gets.length).toBeGreaterThan(20);
    for (const r of gets) {
      for (const headers of [admin.auth, {}]) {
        const res = await t.app.inject({ method: 'GET', url: concrete(r.url), headers });
        expect(res.headers['cache-control'], `${r.url} ${res.statusCode}`).toBe('no-store');
      }
    }
    const list = await t.app.inject({ method: 'GET', url: '/api/v1/contacts', headers: admin.auth });
    expect(list.statusCode).toBe(200);
    expect(list.headers['cache-control']).toBe('no-store');
  });

  test('C9 /metrics answers on the staff app’s host only, and with METRICS_TOKEN only to its bearer', async () => {
    const host = `${unique('metrics').toLowerCase()}.example.com`;
    const portal = await t.app.services.portals.create({ name: 'Acme', domain: host, consentText: 'ok' });
    await t.app.services.portals.update(portal.id, { enabled: true });
    expect((await t.app.inject({ method: 'GET', url: '/metrics', headers: { host } })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
    const guarded = await createTestApp(dialect, { METRICS_TOKEN: 'scrape-me-please-0123' });
    try {
      expect((await guarded.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
      expect((await guarded.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer scrape-me-please-0124' } })).statusCode).toBe(401);
      const ok = await guarded.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer scrape-me-please-0123' } });
      expect(ok.statusCode).toBe(200);
      expect(ok.body).toContain('portico_http_requests_total');
    } finally {
      await guarded.close();
    }
    expect(() => loadConfig({ DATA_DIR: t.dataDir, METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN/);
  });

  test('C9 every answer, errors included, carries the security headers', async () => {
    const staff = await createStaff(t);
    for (const res of [
      await t.app.inject({ method: 'GET', url: '/api/v1/contacts', headers: staff.auth }),
      await t.app.inject({ method: 'GET', url: '/api/v1/contacts/99999', headers: staff.auth }),
      await t.app.inject({ method: 'GET', url: '/api/v1/contacts' }),
      await t.app.inject({ method: 'GET', url: '/nowhere' }),
    ]) {
      expect(res.headers['content-security-policy']).toContain("default-src 'none'");
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['strict-transport-security']).toBeUndefined(); // plain http in tests
    }
  });

  test('C9 every answer carries a request id; a sane incoming one is kept, a hostile one replaced', async () => {
    const kept = await t.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'abc-12345678' } });
    expect(kept.headers['x-request-id']).toBe('abc-12345678');
    const replaced = await t.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'evil\nheader: 1' } });
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});
