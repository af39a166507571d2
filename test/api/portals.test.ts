import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { caller, createStaff, createTestApp, dialects, rowCounts, unique, type TestApp, type TestStaff } from '../helpers/test-app.js';

describe.each(dialects)('portal settings on %s', (dialect) => {
  let t: TestApp;
  let settings: TestStaff;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    settings = await createStaff(t, { permissions: ['portal_settings'] });
  });
  afterAll(async () => {
    await t.close();
  });

  const call = caller(() => t, () => settings);
  const domain = () => `${unique('support').toLowerCase()}.example.com`;

  test('P3 only staff holding the portal settings permission read or change portals', async () => {
    const agent = await createStaff(t, { permissions: ['manage_settings'] });
    expect((await call('GET', '/api/v1/portals', undefined, agent)).statusCode).toBe(403);
    expect((await call('POST', '/api/v1/portals', { name: 'X' }, agent)).statusCode).toBe(403);
    expect((await call('GET', '/api/v1/portals')).statusCode).toBe(200);
  });

  test('P4 P26 a portal cannot be enabled until it has a domain, a sign-in method and consent text; the answer names what is missing', async () => {
    const created = await call('POST', '/api/v1/portals', { name: unique('Brand'), signInMethods: [] });
    expect(created.statusCode).toBe(201);
    const portal = created.json<{ id: number; enabled: boolean; missing: string[]; title: string; slug: string; language: string; scope: string; idleTimeoutMinutes: number }>();
    expect(portal).toMatchObject({ enabled: false, slug: 'tickets', language: 'en', scope: 'contact', idleTimeoutMinutes: 60 });
    expect(portal.missing).toEqual(['Connect a domain.', 'Choose at least one sign-in method.', 'Write the consent text.']);
    expect(created.json().url).toBeNull();

    const refused = await call('PATCH', `/api/v1/portals/${portal.id}`, { enabled: true });
    expect(refused.statusCode).toBe(422);
    expect(refused.json()).toMatchObject({ code: 'PORTAL_INCOMPLETE' });
    expect(refused.json().errors.map((e: { path: string }) => e.path)).toEqual(['/body/domain', '/body/signInMethods', '/body/consentText']);
    expect((await call('GET', `/api/v1/portals/${portal.id}`)).json().enabled).toBe(false);

    const partial = await call('PATCH', `/api/v1/portals/${portal.id}`, { enabled: true, domain: domain(), signInMethods: ['password'] });
    expect(partial.statusCode).toBe(422);
    expect(partial.json().errors).toEqual([{ path: '/body/consentText', label: 'Consent text', message: 'Write the consent text.' }]);

    const host = domain();
    const ok = await call('PATCH', `/api/v1/portals/${portal.id}`, { enabled: true, domain: host, signInMethods: ['password'], consentText: 'We keep your data to answer you. <a href="https://example.com/privacy">Privacy</a>' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ enabled: true, missing: [] });
    // Where customers find it: the domain with the app's own scheme and port.
    const app = t.config.publicAppUrl;
    expect(ok.json().url).toBe(`${app.protocol}//${host}${app.port === '' ? '' : `:${app.port}`}/tickets`);
    // An enabled portal cannot lose what it needs.
    const unplug = await call('PATCH', `/api/v1/portals/${portal.id}`, { domain: null });
    expect(unplug.statusCode).toBe(422);
    expect(unplug.json().code).toBe('PORTAL_INCOMPLETE');
    expect((await call('PATCH', `/api/v1/portals/${portal.id}`, { enabled: false })).json().enabled).toBe(false);
  });

  test('P5 P6 P18 P20 P33 P39 title, domain, slug, language, scope, default inbox, custom stages and idle timeout are kept', async () => {
    const inbox = await t.app.services.inboxes.create(unique('Support'));
    const host = domain();
    const res = await call('POST', '/api/v1/portals', {
      name: unique('Brand'), title: 'Acme support', domain: host.toUpperCase(), slug: 'help-desk', language: 'pl', scope: 'company',
      defaultInboxId: inbox.inbox.id, showCustomStages: true, idleTimeoutMinutes: 15, consentLabel: 'I agree',
      branding: { primaryColor: '#112233', logoUrl: 'https://cdn.example.com/logo.png' },
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({
      title: 'Acme support', domain: host, slug: 'help-desk', language: 'pl', scope: 'company', defaultInboxId: inbox.inbox.id,
      showCustomStages: true, idleTimeoutMinutes: 15, consentLabel: 'I agree', branding: { primaryColor: '#112233', logoUrl: 'https://cdn.example.com/logo.png' },
    });
    const taken = await call('POST', '/api/v1/portals', { name: unique('Other'), domain: host });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().code).toBe('DOMAIN_TAKEN');
  });

  test('P6 a portal never answers on the staff app’s host; bad settings answer 4xx and change nothing', async () => {
    const staffHost = t.config.publicAppUrl.hostname;
    const res = await call('POST', '/api/v1/portals', { name: unique('Brand'), domain: staffHost });
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe('DOMAIN_IS_STAFF_APP');
    // Nor on an address, nor on a name the staff app answers on: a portal there would take it away.
    const before = await rowCounts(t);
    for (const [domain, code] of [['127.0.0.1', 'DOMAIN_IS_ADDRESS'], ['10.0.0.7', 'DOMAIN_IS_ADDRESS'], ['1.2.3.4.5', 'DOMAIN_IS_ADDRESS'], ['localhost', 'DOMAIN_IS_STAFF_APP'], ['LOCALHOST', 'DOMAIN_IS_STAFF_APP'], [t.config.host, 'DOMAIN_IS_ADDRESS']] as const) {
      const refused = await call('POST', '/api/v1/portals', { name: unique('Brand'), domain });
      expect(refused.statusCode, domain).toBe(422);
      expect(refused.json(), domain).toMatchObject({ code, errors: [{ path: '/body/domain' }] });
      expect(refused.json().title).not.toMatch(/pattern|\^/);
    }
    const existing = await call('POST', '/api/v1/portals', { name: unique('Brand'), domain: `${unique('ok').toLowerCase()}.example.com` });
    expect((await call('PATCH', `/api/v1/portals/${existing.json().id}`, { domain: '127.0.0.1' })).statusCode).toBe(422);
    expect(await rowCounts(t)).toEqual({ ...before, portals: before.portals! + 1 });
    // The staff app still answers on those names.
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/portals', headers: { ...settings.auth, host: '127.0.0.1:3000' } })).statusCode).toBe(200);
    for (const body of [
      { name: 'x', slug: 'Has Spaces' }, { name: 'x', domain: 'https://support.example.com' }, { name: 'x', language: 'english' },
      { name: 'x', scope: 'everyone' }, { name: 'x', idleTimeoutMinutes: 0 }, { name: 'x', signInMethods: ['telepathy'] },
      { name: 'x', branding: { primaryColor: 'red' } }, { name: 'x', branding: { logoUrl: 'javascript:alert(1)' } }, { name: 'x', enabled: true },
    ]) {
      const bad = await call('POST', '/api/v1/portals', body);
      expect(bad.statusCode, JSON.stringify(body)).toBe(400);
    }
    const missingInbox = await call('POST', '/api/v1/portals', { name: 'x', defaultInboxId: 999999 });
    expect(missingInbox.statusCode).toBe(422);
  });

  test('P15 P17 filter rules name ticket properties, custom ones included; anything else answers 422', async () => {
    const key = unique('internal').toLowerCase().replace(/[^a-z0-9]/g, '_');
    await t.app.services.pipelines.createProperty({ key, label: 'Internal', type: 'boolean' });
    const ok = await call('POST', '/api/v1/portals', { name: unique('Brand'), filters: [{ property: 'pipelineId', operator: 'is', value: 1 }, { property: `properties.${key}`, operator: 'is_not', value: true }, { property: 'status', operator: 'is_any_of', values: ['open', 'closed'] }] });
    expect(ok.statusCode, ok.body).toBe(201);
    // A property a rule names cannot be deleted from under the portal.
    const property = (await call('GET', '/api/v1/ticket-properties')).json<{ items: { id: number; key: string }[] }>().items.find((p) => p.key === key)!;
    const admin = await createStaff(t, { role: 'admin' });
    const refused = await call('DELETE', `/api/v1/ticket-properties/${property.id}`, undefined, admin);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('PROPERTY_IN_USE');
    const bad = await call('POST', '/api/v1/portals', { name: unique('Brand'), filters: [{ property: 'properties.nope', operator: 'is_known' }, { property: 'pipelineId', operator: 'is', value: 'Support' }] });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().code).toBe('INVALID_FILTER');
    expect(bad.json().errors.map((e: { path: string }) => e.path)).toEqual(['/body/filters/0/property', '/body/filters/1/value']);
  });

  test('P8 staff give a contact a sign-in with an initial password, once per portal; the hash never leaves the server', async () => {
    const portal = (await call('POST', '/api/v1/portals', { name: unique('Brand') })).json<{ id: number }>();
    const contact = await t.app.services.contacts.create({ email: `${unique('m')}@example.com` });
    const made = await call('POST', `/api/v1/portals/${portal.id}/members`, { contactId: contact.id, password: 'a long initial password' });
    expect(made.statusCode).toBe(201);
    expect(made.json()).toMatchObject({ contactId: contact.id, hasPassword: true, disabled: false });
    expect(made.body).not.toContain('argon2');
    const row = await t.app.deps.db.selectFrom('members').select('password_hash').where('id', '=', made.json().id).executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^\$argon2id\$/);
    expect((await call('POST', `/api/v1/portals/${portal.id}/members`, { contactId: contact.id })).statusCode).toBe(409);
    expect((await call('POST', `/api/v1/portals/${portal.id}/members`, { contactId: 999999 })).statusCode).toBe(422);
    const list = await call('GET', `/api/v1/portals/${portal.id}/members`);
    expect(list.json().items).toHaveLength(1);
    const disabled = await call('PATCH', `/api/v1/portals/${portal.id}/members/${made.json().id}`, { disabled: true });
    expect(disabled.json().disabled).toBe(true);
    const other = (await call('POST', '/api/v1/portals', { name: unique('Brand') })).json<{ id: number }>();
    expect((await call('DELETE', `/api/v1/portals/${other.id}/members/${made.json().id}`)).statusCode).toBe(404);
    expect((await call('DELETE', `/api/v1/portals/${portal.id}/members/${made.json().id}`)).statusCode).toBe(204);
  });
});
