import { ManualClock } from '../clock.js';
import type { Db } from '../db/database.js';
import type { Deps } from '../deps.js';
import { buildServices } from '../services.js';

/** The demo staff and customer password. Demo data only: never seed it into a database you expose. */
export const DEMO_PASSWORD = 'portico-demo-password';
/** The demo portal's host; *.localhost resolves to this machine in browsers. */
export const DEMO_PORTAL_HOST = 'portal.localhost';

/** True once the database holds any staff user or contact: the demo never writes over real data. */
export async function isDemoSeeded(db: Db): Promise<boolean> {
  const staff = await db.selectFrom('staff_users').select('id').limit(1).executeTakeFirst();
  const contact = await db.selectFrom('contacts').select('id').limit(1).executeTakeFirst();
  return staff !== undefined || contact !== undefined;
}

const HOUR = 3600 * 1000;

/**
 * Seeds a small, believable help desk: an admin and an agent, three customer companies with
 * their people, two pipelines, custom properties, two inboxes with channels, and tickets with
 * conversations and internal comments spread over the last two weeks.
 */
export async function seedDemo(deps: Deps): Promise<void> {
  const clock = new ManualClock(deps.clock.now() - 14 * 24 * HOUR);
  const s = buildServices({ ...deps, clock });

  const admin = await s.staff.create({ email: 'admin@example.com', name: 'Ada Admin', role: 'admin', password: DEMO_PASSWORD });
  const agent = await s.staff.create({ email: 'agent@example.com', name: 'Alan Agent', role: 'agent', password: DEMO_PASSWORD, permissions: [] });

  const globex = await s.companies.create({ name: 'Globex Corporation', domain: 'globex.example' });
  const initech = await s.companies.create({ name: 'Initech', domain: 'initech.example' });
  const umbrella = await s.companies.create({ name: 'Umbrella Health', domain: 'umbrella.example' });

  const people = [
    { email: 'hank@globex.example', firstName: 'Hank', lastName: 'Scorpio', primaryCompanyId: globex.id },
    { email: 'frank@globex.example', firstName: 'Frank', lastName: 'Grimes', primaryCompanyId: globex.id },
    { email: 'peter@initech.example', firstName: 'Peter', lastName: 'Gibbons', primaryCompanyId: initech.id },
    { email: 'joanna@initech.example', firstName: 'Joanna', lastName: 'Lee', primaryCompanyId: initech.id, companyIds: [globex.id] },
    { email: 'alice@umbrella.example', firstName: 'Alice', lastName: 'Abernathy', primaryCompanyId: umbrella.id },
    { email: 'sam@freelance.example', firstName: 'Sam', lastName: 'Solo' },
  ];
  const contacts = [];
  for (const p of people) contacts.push(await s.contacts.create(p));
  const [hank, frank, peter, joanna, alice, sam] = contacts as [typeof contacts[number], typeof contacts[number], typeof contacts[number], typeof contacts[number], typeof contacts[number], typeof contacts[number]];

  const vip = await s.lists.create({ name: 'VIP customers', kind: 'static' });
  await s.lists.addMembers(vip.id, [hank.id, alice.id]);
  await s.lists.create({ name: 'Globex people', kind: 'active', filters: [{ property: 'companyId', operator: 'is', value: globex.id }] });

  const support = await s.pipelines.create({
    name: 'Support',
    stages: [
      { name: 'New', state: 'open' },
      { name: 'Waiting on contact', state: 'open' },
      { name: 'Waiting on us', state: 'open' },
      { name: 'Closed', state: 'closed' },
    ],
  });
  const billing = await s.pipelines.create({
    name: 'Billing',
    stages: [
      { name: 'Open', state: 'open' },
      { name: 'In review', state: 'open' },
      { name: 'Resolved', state: 'closed' },
    ],
  });
  await s.pipelines.createProperty({
    key: 'product', label: 'Product', type: 'enumeration',
    options: [{ value: 'cloud', label: 'Portico Cloud' }, { value: 'onprem', label: 'Portico On-Premises' }, { value: 'mobile', label: 'Mobile app' }],
  });
  await s.pipelines.createProperty({ key: 'internal', label: 'Internal ticket', type: 'boolean' });

  const supportInbox = await s.inboxes.create('Support');
  await s.inboxes.addChannel(supportInbox.inbox.id, { type: 'email', name: 'Support mailbox', address: 'support@example.com' });
  await s.inboxes.addChannel(supportInbox.inbox.id, { type: 'portal', name: 'Customer portal' });
  await s.inboxes.addChannel(supportInbox.inbox.id, { type: 'form', name: 'Support form' });
  const billingInbox = await s.inboxes.create('Billing');
  await s.inboxes.addChannel(billingInbox.inbox.id, { type: 'email', name: 'Billing mailbox', address: 'billing@example.com' });
  const supportEmail = (await s.inboxes.get(supportInbox.inbox.id)).channels[0];
  const stage = (pipeline: typeof support, name: string) => pipeline.stages.find((x) => x.name === name)?.id;

  type Line = [who: 'customer' | 'staff' | 'comment', text: string];
  const stories: { contact: typeof hank; subject: string; pipeline: typeof support; stage: string; priority: 'low' | 'medium' | 'high' | 'urgent'; product?: string; internal?: boolean; inbox: number; lines: Line[] }[] = [
    { contact: hank, subject: 'Cannot sign in after password change', pipeline: support, stage: 'Waiting on us', priority: 'high', product: 'cloud', inbox: supportInbox.inbox.id, lines: [
      ['customer', 'Since I changed my password this morning the sign-in page just reloads. I tried two browsers.'],
      ['staff', 'Thanks Hank, could you tell us the time of your last attempt so we can find it in the logs?'],
      ['customer', 'Around 09:40 CET, from our office network.'],
      ['comment', 'Logs show the account locked after 10 failures from 203.0.113.7. Unlock once he confirms the IP.'],
    ] },
    { contact: frank, subject: 'Export to CSV misses the last column', pipeline: support, stage: 'New', priority: 'medium', product: 'cloud', inbox: supportInbox.inbox.id, lines: [
      ['customer', 'The CSV export drops the "Region" column. Screenshot attached in my next mail.'],
    ] },
    { contact: peter, subject: 'TPS report template', pipeline: support, stage: 'Closed', priority: 'low', product: 'onprem', inbox: supportInbox.inbox.id, lines: [
      ['customer', 'Where can I find the new cover sheet for TPS reports?'],
      ['staff', 'It is under Settings → Templates → Reports. I have attached the link to the guide.'],
      ['customer', 'Found it, thank you!'],
    ] },
    { contact: joanna, subject: 'Invoice 2026-114 charged twice', pipeline: billing, stage: 'In review', priority: 'urgent', inbox: billingInbox.inbox.id, lines: [
      ['customer', 'Our card was charged twice for invoice 2026-114. Please refund one charge.'],
      ['comment', 'Payment provider confirms a duplicate capture. Refund requested, reference R-88213.'],
      ['staff', 'You are right, and we are sorry. The refund is on its way and should arrive within 5 business days.'],
    ] },
    { contact: alice, subject: 'Mobile app crashes on upload', pipeline: support, stage: 'Waiting on contact', priority: 'high', product: 'mobile', inbox: supportInbox.inbox.id, lines: [
      ['customer', 'The iOS app closes when I attach a photo larger than 10 MB.'],
      ['staff', 'Could you send us the app version from Settings → About?'],
    ] },
    { contact: sam, subject: 'Question about the on-premises licence', pipeline: billing, stage: 'Resolved', priority: 'low', inbox: billingInbox.inbox.id, lines: [
      ['customer', 'Does the on-premises licence cover a staging server?'],
      ['staff', 'Yes: one production and one staging installation are included.'],
    ] },
    { contact: hank, subject: 'Security review for vendor onboarding', pipeline: support, stage: 'New', priority: 'medium', internal: true, inbox: supportInbox.inbox.id, lines: [
      ['comment', 'Internal: Globex security team asked for our SOC 2 report. Legal must approve before we send it.'],
    ] },
  ];

  for (const story of stories) {
    clock.advance(17 * HOUR);
    const properties: Record<string, string | boolean> = {};
    if (story.product !== undefined) properties.product = story.product;
    if (story.internal === true) properties.internal = true;
    const ticket = await s.tickets.create({
      subject: story.subject,
      pipelineId: story.pipeline.pipeline.id,
      stageId: stage(story.pipeline, 'New') ?? stage(story.pipeline, 'Open'),
      priority: story.priority,
      source: 'email',
      ownerId: story.priority === 'urgent' ? admin.id : agent.id,
      properties,
      contactIds: [story.contact.id],
    }, null);
    const thread = await s.conversations.createThread({
      inboxId: story.inbox,
      channelId: story.inbox === supportInbox.inbox.id ? (supportEmail?.id ?? null) : null,
      ticketId: ticket.id,
      contactId: story.contact.id,
      subject: story.subject,
      assigneeId: ticket.owner_id,
    }, { type: 'system' });
    for (const [who, text] of story.lines) {
      clock.advance(3 * HOUR);
      await s.conversations.addMessage({
        threadId: thread.id,
        kind: who === 'comment' ? 'comment' : 'message',
        author: who === 'customer' ? { type: 'customer', contactId: story.contact.id } : { type: 'staff', staffUserId: ticket.owner_id ?? agent.id },
        bodyText: text,
      });
    }
    const target = stage(story.pipeline, story.stage);
    if (target !== undefined && target !== ticket.stage_id) {
      clock.advance(HOUR);
      await s.tickets.update(ticket.id, { stageId: target }, ticket.owner_id);
    }
    if (story.stage === 'Closed' || story.stage === 'Resolved') await s.conversations.updateThread(thread.id, { status: 'closed' });
  }

  // The demo portal, on its own host: Globex's people see their company's tickets, never the
  // ones marked internal. English first, Polish for visitors who prefer it.
  const portal = await s.portals.create({
    name: 'Portico Demo Support',
    title: 'Portico Demo Support',
    domain: DEMO_PORTAL_HOST,
    slug: 'tickets',
    language: 'en',
    languages: ['pl'],
    timeZone: 'Europe/Warsaw',
    scope: 'company',
    defaultInboxId: supportInbox.inbox.id,
    filters: [{ property: 'properties.internal', operator: 'is_not', value: true }],
    consentText: 'We use your name and email to answer your requests. See https://example.com/privacy.',
    consentLabel: 'I agree to the processing of my data',
    signInMethods: ['password', 'magic_link'],
    selfRegistration: true,
  });
  // The portal's "Submit a support ticket" link opens this form (P25).
  const form = await s.forms.create({
    name: 'Support request', inboxId: supportInbox.inbox.id, fields: [
      { key: 'subject', label: 'Subject', type: 'text', required: true, maps: 'subject' },
      { key: 'details', label: 'What happened?', type: 'textarea', required: true, maps: 'description', help: 'What you did, what you expected, and what happened instead.' },
      { key: 'area', label: 'Area', type: 'choice', required: true, options: ['Billing', 'Hardware', 'Software', 'Something else'], maps: 'category' },
      { key: 'files', label: 'Screenshots or files', type: 'file', required: false, maps: null },
    ],
  });
  await s.portals.update(portal.id, { enabled: true, formId: form.id });
  // A small knowledge base, public on the portal's host (C8, P24).
  const access = await s.kb.createCategory({ name: 'Access and badges', description: 'Doors, badges and visitor passes.', position: 1 });
  const billingHelp = await s.kb.createCategory({ name: 'Billing', description: 'Invoices and payments.', position: 2 });
  await s.kb.createArticle({ categoryId: access.id, published: true, title: 'When the badge reader rejects your card', body: 'Hold the card **flat** against the reader for two seconds.\n\nIf the light stays red, your badge may have expired: ask reception for a new one, or submit a ticket with the time it happened.' });
  await s.kb.createArticle({ categoryId: billingHelp.id, published: true, title: 'Changing the address on your invoices', body: 'Invoices go to the address on your company record.\n\n1. Submit a ticket in the *Billing* area.\n2. Give the new address and the date it applies from.' });
  for (const contact of [hank, frank, peter]) await s.portals.createMember(portal.id, contact.id, DEMO_PASSWORD);
}
