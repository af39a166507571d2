import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as oneSubjectPerProvider from '../../src/db/migrations/2026-12-07T13-00-sso-one-subject-per-provider.js';
import { createTestApp, dialects, unique, type TestApp } from '../helpers/test-app.js';
import { ssoPortal } from '../helpers/sso-fixtures.js';

// P12 What the single sign-on migrations do to data written before them.

describe.each(dialects)('single sign-on migrations on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(async () => {
    await t.close();
  });

  test('P12 links made by the subject swap are removed: each member keeps its oldest link per provider, then (provider, member) is unique', async () => {
    const db = t.app.deps.db;
    const f = await ssoPortal(t);
    const provider = (await t.app.services.sso.create(f.portalId, { kind: 'jwt', name: 'Acme', settings: { algorithm: 'HS256', issuer: 'https://acme.example', audience: 'portico', loginUrl: 'https://acme.example/login' }, secrets: { sharedSecret: 'x'.repeat(40) } })).row;
    const contact = await t.app.services.contacts.create({ email: `${unique('m')}@example.com` });
    const now = t.clock.now();
    const member = await db.insertInto('members').values({ portal_id: f.portalId, contact_id: contact.id, password_hash: null, verified_at: now, created_at: now, updated_at: now }).returning('id').executeTakeFirstOrThrow();
    // The database as it was before the migration: no unique (provider, member).
    await oneSubjectPerProvider.down(db);
    const link = (subject: string) => db.insertInto('member_identities').values({ provider_id: provider.id, subject, member_id: member.id, email: contact.email, linked_by: 'email', created_at: now, last_sign_in_at: null }).execute();
    await link('the-owner');
    await link('the-intruder');
    await oneSubjectPerProvider.up(db);
    expect((await db.selectFrom('member_identities').select('subject').where('provider_id', '=', provider.id).execute()).map((r) => r.subject)).toEqual(['the-owner']);
    await expect(link('another')).rejects.toThrow();
  });
});
