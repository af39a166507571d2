import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { caller, createStaff, createTestApp, dialects, unique, type TestApp, type TestStaff } from '../helpers/test-app.js';
import { expectRefused, get, ssoPortal } from '../helpers/sso-fixtures.js';

// X2 P12 The server fetches what admins type (an OpenID Connect issuer's discovery, token and
// userinfo endpoints, a JWKS): without OUTBOUND_ALLOW_PRIVATE nothing on this machine or a
// private network is ever requested, whether written as an address or as a name that resolves
// there. A server on loopback counts every connection it gets: it must get none.

describe.each(dialects)('requests to identity providers on %s', (dialect) => {
  let t: TestApp;
  let admin: TestStaff;
  const logs: string[] = [];
  let internal: Server;
  let port = 0;
  let connections = 0;
  beforeAll(async () => {
    t = await createTestApp(dialect, {}, { logs });
    t.clock.set(Date.now());
    admin = await createStaff(t, { permissions: ['portal_settings'] });
    internal = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end('{}');
    });
    internal.on('connection', () => {
      connections += 1;
    });
    await new Promise<void>((resolve) => internal.listen(0, '127.0.0.1', resolve));
    port = (internal.address() as AddressInfo).port;
  });
  afterAll(async () => {
    internal.closeAllConnections();
    await new Promise<void>((resolve) => internal.close(() => { resolve(); }));
    await t.close();
  });
  const call = caller(() => t, () => admin);

  test('X2 P12 an issuer or JWKS written as an internal address, or as plain http, is refused when saved with a plain sentence', async () => {
    const f = await ssoPortal(t);
    const cases: [string, Record<string, unknown>, string][] = [
      ['oidc', { issuer: `http://127.0.0.1:${port}/`, clientId: 'portico' }, '/body/settings/issuer'],
      ['oidc', { issuer: `https://127.0.0.1:${port}/`, clientId: 'portico' }, '/body/settings/issuer'],
      ['oidc', { issuer: 'https://[::1]/', clientId: 'portico' }, '/body/settings/issuer'],
      ['oidc', { issuer: 'https://10.1.2.3/realms/acme', clientId: 'portico' }, '/body/settings/issuer'],
      ['oidc', { issuer: 'https://169.254.169.254/', clientId: 'portico' }, '/body/settings/issuer'],
      ['oidc', { issuer: 'https://100.64.0.1/', clientId: 'portico' }, '/body/settings/issuer'],
      ['jwt', { algorithm: 'ES256', issuer: 'https://acme.example', audience: 'portico', loginUrl: 'https://acme.example/login', jwksUrl: `https://127.0.0.1:${port}/jwks.json` }, '/body/settings/jwksUrl'],
      ['jwt', { algorithm: 'ES256', issuer: 'https://acme.example', audience: 'portico', loginUrl: 'https://acme.example/login', jwksUrl: 'https://[fd00::1]/jwks.json' }, '/body/settings/jwksUrl'],
    ];
    for (const [kind, settings, path] of cases) {
      const res = await call('POST', `/api/v1/portals/${f.portalId}/sso-providers`, { kind, name: 'Internal', settings });
      expect(res.statusCode, JSON.stringify(settings)).toBe(400);
      const problem = res.json<{ errors: { path: string; message: string }[] }>().errors.find((e) => e.path === path);
      expect(problem?.message, JSON.stringify(settings)).toMatch(/^(must be an https address|is on this machine or a private or internal network, which Portico does not contact)$/);
    }
    expect(connections).toBe(0);
  });

  test('X2 P12 a name that resolves to this machine is refused when the server connects (after DNS), so nothing is requested; the refusal page and the log say why, never a 500', async () => {
    const f = await ssoPortal(t);
    // Names are resolved when used, never trusted when saved: what DNS answers may change.
    const oidc = await call('POST', `/api/v1/portals/${f.portalId}/sso-providers`, { kind: 'oidc', name: 'Looks public', settings: { issuer: `https://localhost:${port}/`, clientId: 'portico' } });
    expect(oidc.statusCode, oidc.body).toBe(201);
    const refusal = await expectRefused(t, () => get(t, f, `/${f.slug}/sso/${oidc.json<{ id: number }>().id}/start`), logs, /localhost \((127\.0\.0\.1|::1)\) is on this machine or a private or internal network/);
    expect(refusal.code).toBe('address_not_allowed');

    const key = await generateKeyPair('ES256');
    const jwt = await call('POST', `/api/v1/portals/${f.portalId}/sso-providers`, {
      kind: 'jwt', name: 'Keys on a name', settings: { algorithm: 'ES256', issuer: 'https://acme.example', audience: 'portico', loginUrl: 'https://acme.example/login', jwksUrl: `https://localhost:${port}/jwks.json` },
    });
    expect(jwt.statusCode, jwt.body).toBe(201);
    const token = await new SignJWT({ sub: unique('u'), jti: unique('j'), email: 'x@example.com' }).setProtectedHeader({ alg: 'ES256', kid: 'k' })
      .setIssuer('https://acme.example').setAudience('portico').setIssuedAt(new Date(t.clock.now())).setExpirationTime(new Date(t.clock.now() + 60_000)).sign(key.privateKey);
    const jwtRefusal = await expectRefused(t, () => get(t, f, `/${f.slug}/sso/${jwt.json<{ id: number }>().id}/jwt?jwt=${token}`), logs, /JWKS was not fetched: localhost \((127\.0\.0\.1|::1)\)/);
    expect(jwtRefusal.code).toBe('address_not_allowed');
    expect(connections).toBe(0);
  });
});
