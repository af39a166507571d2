import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { pickSort } from '../../src/http/pagination.js';
import { PORTAL_SORTS, type Viewer } from '../../src/modules/access/access.service.js';
import { createStaff, createTestApp, dialects, unique, type TestApp } from '../helpers/test-app.js';

describe.each(dialects)('the access rule on %s', (dialect) => {
  let t: TestApp;
  const ids: Record<string, number> = {};
  let staffId = 0;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    const s = t.app.services;
    staffId = (await createStaff(t)).id;
    const acme = await s.companies.create({ name: unique('Acme') });
    const globex = await s.companies.create({ name: unique('Globex') });
    ids.acme = acme.id;
    ids.globex = globex.id;
    const person = async (name: string, companyId: number) => (await s.contacts.create({ email: `${unique(name)}@example.com`, primaryCompanyId: companyId })).id;
    ids.alice = await person('alice', acme.id);
    ids.bob = await person('bob', acme.id);
    ids.carol = await person('carol', globex.id);
    const support = await s.pipelines.create({ name: unique('Support'), stages: [{ name: 'Open', state: 'open' }, { name: 'Done', state: 'closed' }] });
    const billing = await s.pipelines.create({ name: unique('Billing'), stages: [{ name: 'Open', state: 'open' }] });
    ids.support = support.pipeline.id;
    const key = unique('internal').toLowerCase().replace(/[^a-z0-9]/g, '_');
    await s.pipelines.createProperty({ key, label: 'Internal', type: 'boolean' });
    const ticket = async (contact: number, pipelineId: number, properties: Record<string, boolean> = {}) =>
      (await s.tickets.create({ subject: unique('T'), pipelineId, contactIds: [contact], properties }, null)).id;
    ids.alicesOwn = await ticket(ids.alice, support.pipeline.id);
    ids.bobs = await ticket(ids.bob, support.pipeline.id);
    ids.carols = await ticket(ids.carol, support.pipeline.id);
    ids.alicesBilling = await ticket(ids.alice, billing.pipeline.id);
    ids.alicesInternal = await ticket(ids.alice, support.pipeline.id, { [key]: true });
    ids.alicesClosed = await ticket(ids.alice, support.pipeline.id, { [key]: false });
    await s.tickets.update(ids.alicesClosed, { stageId: support.stages[1]!.id }, null);

    const filters = [{ property: 'pipelineId', operator: 'is' as const, value: support.pipeline.id }, { property: `properties.${key}`, operator: 'is_not' as const, value: true }];
    const portal = async (scope: 'contact' | 'company') => (await s.portals.create({ name: unique('Portal'), scope, filters, domain: `${unique('p').toLowerCase()}.example.com`, consentText: 'ok' })).id;
    ids.contactPortal = await portal('contact');
    ids.companyPortal = await portal('company');
    for (const p of [ids.contactPortal, ids.companyPortal]) await s.portals.update(p, { enabled: true });
    ids.aliceOnContact = (await s.portals.createMember(ids.contactPortal, ids.alice, undefined)).id;
    ids.aliceOnCompany = (await s.portals.createMember(ids.companyPortal, ids.alice, undefined)).id;
  });
  afterAll(async () => {
    await t.close();
  });

  const viewer = (portal: string, member: string, contact = 'alice'): Viewer => ({ portalId: ids[portal]!, memberId: ids[member]!, contactId: ids[contact]! });
  const sees = async (v: Viewer) => {
    const all = [ids.alicesOwn, ids.bobs, ids.carols, ids.alicesBilling, ids.alicesInternal, ids.alicesClosed] as number[];
    const visible: number[] = [];
    for (const id of all) if ((await t.app.services.access.findVisibleTicketId(v, id)) !== undefined) visible.push(id);
    return visible.sort((a, b) => a - b);
  };

  test('P18 P15 P17 in contact scope a member sees their own tickets that pass every filter rule, open and closed', async () => {
    expect(await sees(viewer('contactPortal', 'aliceOnContact'))).toEqual([ids.alicesOwn, ids.alicesClosed].sort((a, b) => a! - b!));
  });

  test('P18 P19 in company scope a member also sees their primary company’s tickets; the View menu narrows to their own', async () => {
    const v = viewer('companyPortal', 'aliceOnCompany');
    expect(await sees(v)).toEqual([ids.alicesOwn, ids.bobs, ids.alicesClosed].sort((a, b) => a! - b!));
    const sort = pickSort(undefined, '-lastActivity', PORTAL_SORTS, 'a.ticket_id');
    const org = (await t.app.services.access.listVisible(v, { view: 'organization', sort, limit: 50 })).map((r) => r.id);
    const mine = (await t.app.services.access.listVisible(v, { view: 'mine', sort, limit: 50 })).map((r) => r.id);
    expect([...org].sort((a, b) => a - b)).toEqual([ids.alicesOwn, ids.bobs, ids.alicesClosed].sort((a, b) => a! - b!));
    expect([...mine].sort((a, b) => a - b)).toEqual([ids.alicesOwn, ids.alicesClosed].sort((a, b) => a! - b!));
  });

  test('P18 a new primary company changes what a member sees at the next request', async () => {
    const s = t.app.services;
    const dave = (await s.contacts.create({ email: `${unique('dave')}@example.com`, primaryCompanyId: ids.acme })).id;
    const member = (await s.portals.createMember(ids.companyPortal!, dave, undefined)).id;
    const v: Viewer = { portalId: ids.companyPortal!, memberId: member, contactId: dave };
    expect(await sees(v)).toEqual([ids.alicesOwn, ids.bobs, ids.alicesClosed].sort((a, b) => a! - b!));
    await s.contacts.update(dave, { primaryCompanyId: ids.globex });
    expect(await sees(v)).toEqual([ids.carols]);
  });

  test('P26 a disabled portal, a disabled member, or a member of another portal sees nothing', async () => {
    const s = t.app.services;
    // Alice's membership of the contact-scope portal does not open the company-scope portal.
    expect(await sees({ portalId: ids.companyPortal!, memberId: ids.aliceOnContact!, contactId: ids.alice! })).toEqual([]);
    // Nor does claiming another contact through one's own membership.
    expect(await sees({ portalId: ids.companyPortal!, memberId: ids.aliceOnCompany!, contactId: ids.carol! })).toEqual([]);
    await s.portals.updateMember(ids.contactPortal!, ids.aliceOnContact!, { disabled: true });
    expect(await sees(viewer('contactPortal', 'aliceOnContact'))).toEqual([]);
    await s.portals.updateMember(ids.contactPortal!, ids.aliceOnContact!, { disabled: false });
    await s.portals.update(ids.contactPortal!, { enabled: false });
    expect(await sees(viewer('contactPortal', 'aliceOnContact'))).toEqual([]);
    await s.portals.update(ids.contactPortal!, { enabled: true });
    expect(await sees(viewer('contactPortal', 'aliceOnContact'))).not.toEqual([]);
  });

  test('P16 P17 an attachment is downloadable only from a customer-visible message of the newest thread of a visible ticket', async () => {
    const s = t.app.services;
    const inbox = await s.inboxes.create(unique('Inbox'));
    const upload = async (name: string) => (await s.conversations.upload(Readable.from([Buffer.from(`bytes of ${name}`)]), name, 'text/plain', staffId)).id;
    const post = async (threadId: number, kind: 'message' | 'comment', name: string) => {
      const attachment = await upload(name);
      await s.conversations.addMessage({ threadId, kind, author: { type: 'staff', staffUserId: staffId }, bodyText: name, attachmentIds: [attachment] });
      return attachment;
    };
    const older = await s.conversations.createThread({ inboxId: inbox.inbox.id, ticketId: ids.alicesOwn, subject: 'older' }, { type: 'system' });
    const inOlder = await post(older.id, 'message', 'older.txt');
    t.clock.advance(1000);
    const newest = await s.conversations.createThread({ inboxId: inbox.inbox.id, ticketId: ids.alicesOwn, subject: 'newest' }, { type: 'system' });
    const visibleFile = await post(newest.id, 'message', 'visible.txt');
    const internalFile = await post(newest.id, 'comment', 'internal.txt');
    const bobsThread = await s.conversations.createThread({ inboxId: inbox.inbox.id, ticketId: ids.bobs, subject: 'bob' }, { type: 'system' });
    const bobsFile = await post(bobsThread.id, 'message', 'bob.txt');
    const billingThread = await s.conversations.createThread({ inboxId: inbox.inbox.id, ticketId: ids.alicesBilling, subject: 'billing' }, { type: 'system' });
    const billingFile = await post(billingThread.id, 'message', 'billing.txt');

    const can = async (v: Viewer, id: number) => (await s.access.findVisibleAttachmentId(v, id)) !== undefined;
    const contactScope = viewer('contactPortal', 'aliceOnContact');
    const companyScope = viewer('companyPortal', 'aliceOnCompany');
    expect(await can(contactScope, visibleFile)).toBe(true);
    expect(await can(contactScope, internalFile)).toBe(false);
    expect(await can(contactScope, inOlder)).toBe(false);
    expect(await can(contactScope, bobsFile)).toBe(false);
    expect(await can(companyScope, bobsFile)).toBe(true);
    expect(await can(companyScope, billingFile)).toBe(false);
    expect(await can(contactScope, 987654)).toBe(false);
  });
});
