import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { dkimKey, dkimSigned, publishKey, TestDns } from '../helpers/dns-zone.js';
import { rawMail, sendRaw, smtpClient, startMailIn, type MailIn } from '../helpers/mail-in.js';
import { cookiesOf, csrfOf } from '../helpers/portal-forms.js';
import { caller, createStaff, createTestApp, dialects, unique, type TestApp, type TestStaff } from '../helpers/test-app.js';

// C12 C6 P17 P18: incoming mail is authenticated (SPF, DKIM, DMARC, by mailauth, with DNS
// answered by the test's own zone) over real SMTP through Portico's listener; the verdict is
// recorded and shown to staff; a mail whose DMARC check fails is kept off the portal, and mails
// no one, until a staff member accepts it.

interface SenderCheck {
  address: string;
  verified: boolean;
  fromDomain: string;
  spf: string;
  dkim: string;
  dkimDomain: string | null;
  dmarc: string;
  dmarcPolicy: string | null;
}
interface ApiMessage {
  id: number;
  contactId: number | null;
  sender: SenderCheck | null;
  held: boolean;
  acceptedAt: string | null;
  acceptedBy: number | null;
  attachments: { id: number }[];
}

const PASSWORD = 'colleague password 123';

describe.each(dialects)('incoming mail authentication on %s', (dialect) => {
  let t: TestApp;
  let agent: TestStaff;
  let admin: TestStaff;
  let mail: MailIn;
  const dns = new TestDns();
  beforeAll(async () => {
    t = await createTestApp(dialect, { MAIL_FROM: 'Acme Support <support@acme.example>' }, { dns });
    agent = await createStaff(t);
    admin = await createStaff(t, { role: 'admin' });
    mail = await startMailIn(t);
  });
  afterAll(async () => {
    await mail.listener.stop();
    await t.close();
  });
  const call = caller(() => t, () => agent);
  const db = () => t.app.deps.db;
  const mid = () => `<${unique('m')}@sender.example>`;
  /** A word no other ticket holds, for portal searches. */
  const word = () => `zebra${randomBytes(5).toString('hex')}`;
  const outboxCount = async () => Number((await db().selectFrom('outbox').select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow()).n);

  async function settled(messageId: string) {
    await mail.listener.idle();
    const row = await db().selectFrom('inbound_mail').selectAll().where('message_id', '=', messageId).executeTakeFirst();
    if (row?.status !== 'processed') throw new Error(`mail ${messageId} was not threaded: ${row?.status ?? 'missing'} ${row?.reason ?? ''}`);
    return row;
  }

  /** The mail's message as the staff API shows it, with its thread and ticket. */
  async function received(messageId: string) {
    const row = await settled(messageId);
    const threadId = row.thread_id ?? 0;
    const thread = (await call('GET', `/api/v1/threads/${threadId}`)).json<{ ticketId: number | null; contactId: number | null }>();
    const page = await call('GET', `/api/v1/threads/${threadId}/messages`);
    expect(page.statusCode, page.body).toBe(200);
    const message = page.json<{ items: ApiMessage[] }>().items[0]!;
    return { row, threadId, ticketId: thread.ticketId ?? 0, thread, message };
  }

  async function signIn(host: string, slug: string, email: string): Promise<string> {
    const ip = `10.12.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
    const form = await t.app.inject({ method: 'GET', url: `/${slug}/sign-in`, headers: { host }, remoteAddress: ip });
    const res = await t.app.inject({
      method: 'POST', url: `/${slug}/sign-in`, remoteAddress: ip,
      headers: { host, cookie: `portico_form=${cookiesOf(form).portico_form ?? ''}`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ email, password: PASSWORD, csrf: csrfOf(form.body), next: `/${slug}` }).toString(),
    });
    expect(res.statusCode, res.body).toBe(303);
    return `portico_member=${cookiesOf(res).portico_member ?? ''}`;
  }

  /**
   * A customer company on its own domain (with the SPF and DMARC records given), its boss (whom
   * mail will claim to come from) and a colleague signed in to a portal in company scope, who
   * sees every ticket of the company.
   */
  async function customer(records: { spf?: string; dmarc?: string } = {}) {
    const s = t.app.services;
    const domain = `${unique('co').toLowerCase()}.example`;
    if (records.spf !== undefined) dns.txt(domain, records.spf);
    if (records.dmarc !== undefined) dns.txt(`_dmarc.${domain}`, records.dmarc);
    const company = await s.companies.create({ name: unique('Co'), domain });
    const boss = await s.contacts.create({ email: `boss@${domain}`, firstName: 'Bea', lastName: 'Boss', primaryCompanyId: company.id });
    const colleague = await s.contacts.create({ email: `colleague@${domain}`, firstName: 'Cal', primaryCompanyId: company.id });
    const host = `${unique('help').toLowerCase()}.example.com`;
    const portal = await s.portals.create({ name: 'Acme Help', domain: host, consentText: 'ok', scope: 'company' });
    await s.portals.update(portal.id, { enabled: true });
    await s.portals.createMember(portal.id, colleague.id, PASSWORD);
    const cookie = await signIn(host, portal.slug, colleague.email);
    const page = (path: string) => t.app.inject({ method: 'GET', url: `/${portal.slug}${path}`, headers: { host, cookie } });
    /** What the colleague finds of a ticket on the portal. */
    const portalView = async (ticketId: number, subject: string, search: string, attachmentId?: number) => ({
      listed: (await page('/tickets')).body.includes(subject),
      found: (await page(`/tickets?q=${search}`)).body.includes(subject),
      page: (await page(`/${ticketId}`)).statusCode,
      attachment: attachmentId === undefined ? undefined : (await page(`/attachments/${attachmentId}`)).statusCode,
    });
    return { domain, portalId: portal.id, boss, colleague, portalView };
  }

  test('C12 C6 P17 P18 a mail with a forged From (no DKIM signature, SPF fail, DMARC p=reject) is held: staff see it with the verdict, the portal shows none of it (ticket page, list, search, attachment) and nothing is mailed, until staff accept it', async () => {
    const c = await customer({ spf: 'v=spf1 ip4:192.0.2.10 -all', dmarc: 'v=DMARC1; p=reject' });
    const secret = word();
    const subject = `Urgent payment ${secret}`;
    const messageId = mid();
    const mailsBefore = await outboxCount();
    const info = await smtpClient(mail.port).sendMail({
      envelope: { from: `boss@${c.domain}`, to: [mail.address] },
      from: `Bea Boss <boss@${c.domain}>`, to: mail.address, subject, messageId,
      text: `Please pay the attached invoice today. ${secret}`,
      attachments: [{ filename: 'invoice.txt', content: 'IBAN XX00 0000' }],
    });
    expect(info.response).toMatch(/^250 /);
    const { row, threadId, ticketId, message } = await received(messageId);
    // A ticket for the boss's company, which the colleague sees none of.
    expect(ticketId).toBeGreaterThan(0);
    const attachmentId = message.attachments[0]?.id;
    expect(attachmentId).toBeDefined();
    expect(await c.portalView(ticketId, subject, secret, attachmentId)).toEqual({ listed: false, found: false, page: 404, attachment: 404 });

    // Staff see the verdict on the message and on the mail as received.
    const check: SenderCheck = { address: `boss@${c.domain}`, verified: false, fromDomain: c.domain, spf: 'fail', dkim: 'none', dkimDomain: null, dmarc: 'fail', dmarcPolicy: 'reject' };
    expect(message).toMatchObject({ held: true, acceptedAt: null, acceptedBy: null, sender: check });
    const inbound = await call('GET', `/api/v1/inbound-mail/${row.id}`, undefined, admin);
    expect(inbound.json()).toMatchObject({ status: 'processed', authentication: check });
    // Nothing goes to the address it claims: no reply to the customer while it is held, an internal note is fine.
    const reply = await call('POST', `/api/v1/threads/${threadId}/messages`, { bodyText: 'Paid, thank you.' });
    expect(reply.statusCode).toBe(409);
    expect(reply.json()).toMatchObject({ code: 'MESSAGE_HELD' });
    expect((await call('POST', `/api/v1/threads/${threadId}/messages`, { kind: 'comment', bodyText: 'Looks forged.' })).statusCode).toBe(201);
    expect(await outboxCount()).toBe(mailsBefore);

    t.clock.advance(60_000);
    const accepted = await call('POST', `/api/v1/threads/${threadId}/messages/${message.id}/accept`);
    expect(accepted.statusCode, accepted.body).toBe(200);
    expect(accepted.json()).toMatchObject({ id: message.id, held: false, acceptedBy: agent.id, acceptedAt: new Date(t.clock.now()).toISOString(), sender: check });
    expect(await c.portalView(ticketId, subject, secret, attachmentId)).toEqual({ listed: true, found: true, page: 200, attachment: 200 });
    // Accepting again changes nothing; a message that was never held cannot be accepted.
    expect((await call('POST', `/api/v1/threads/${threadId}/messages/${message.id}/accept`)).json()).toMatchObject({ acceptedBy: agent.id });
    const comment = (await call('GET', `/api/v1/threads/${threadId}/messages`)).json<{ items: ApiMessage[] }>().items[1]!;
    expect((await call('POST', `/api/v1/threads/${threadId}/messages/${comment.id}/accept`)).statusCode).toBe(409);
    expect((await call('POST', `/api/v1/threads/${threadId + 1000}/messages/${message.id}/accept`)).statusCode).toBe(404);
    // Once accepted, staff answer as usual.
    expect((await call('POST', `/api/v1/threads/${threadId}/messages`, { bodyText: 'Paid, thank you.' })).statusCode).toBe(201);
  });

  test('C12 a genuine mail, signed with DKIM by its From domain, passes: recorded, no warning, on the portal at once', async () => {
    const c = await customer({ spf: 'v=spf1 ip4:127.0.0.1 -all', dmarc: 'v=DMARC1; p=reject; adkim=s; aspf=s' });
    const key = dkimKey(c.domain);
    publishKey(dns, key);
    const secret = word();
    const subject = `Printer jammed ${secret}`;
    const messageId = mid();
    const raw = rawMail({ From: `Bea Boss <boss@${c.domain}>`, To: mail.address, Subject: subject, 'Message-ID': messageId, Date: new Date().toUTCString() }, `It jams on every page. ${secret}`);
    expect(await sendRaw(mail.port, await dkimSigned(raw, key), { from: `boss@${c.domain}`, to: [mail.address] })).toMatch(/^250 /);
    const { ticketId, message } = await received(messageId);
    expect(message).toMatchObject({
      held: false, acceptedAt: null,
      sender: { address: `boss@${c.domain}`, verified: true, fromDomain: c.domain, spf: 'pass', dkim: 'pass', dkimDomain: c.domain, dmarc: 'pass', dmarcPolicy: 'reject' },
    });
    expect(await c.portalView(ticketId, subject, secret)).toMatchObject({ listed: true, found: true, page: 200 });
    // A signature that no longer matches (the mail was changed after it was signed) fails, and so does DMARC: held.
    const tampered = (await dkimSigned(raw.replace(messageId, mid()), key)).replace(`Subject: ${subject}`, 'Subject: Our new bank details');
    const tamperedId = /Message-ID: (<[^>]+>)/.exec(tampered)?.[1] ?? '';
    await sendRaw(mail.port, tampered, { from: `bounce@elsewhere.example`, to: [mail.address] });
    expect((await received(tamperedId)).message).toMatchObject({ held: true, sender: { verified: false, dkim: 'fail', dmarc: 'fail' } });
  });

  test('C12 mail from a domain without a DMARC policy is recorded and, when nothing vouches for its sender, marked unverified, but not held', async () => {
    const c = await customer();
    const secret = word();
    const subject = `Question ${secret}`;
    const first = mid();
    await sendRaw(mail.port, rawMail({ From: `boss@${c.domain}`, To: mail.address, Subject: subject, 'Message-ID': first }, `Hello ${secret}`), { from: `boss@${c.domain}`, to: [mail.address] });
    const unverified = await received(first);
    expect(unverified.message).toMatchObject({
      held: false,
      sender: { address: `boss@${c.domain}`, verified: false, fromDomain: c.domain, spf: 'none', dkim: 'none', dkimDomain: null, dmarc: 'none', dmarcPolicy: null },
    });
    expect(await c.portalView(unverified.ticketId, subject, secret)).toMatchObject({ listed: true, page: 200 });

    // Once the domain's SPF record names the server that sends it, the same kind of mail is verified.
    dns.txt(c.domain, 'v=spf1 ip4:127.0.0.1 -all');
    const second = mid();
    await sendRaw(mail.port, rawMail({ From: `boss@${c.domain}`, To: mail.address, Subject: 'Another question', 'Message-ID': second }, 'Hello again'), { from: `boss@${c.domain}`, to: [mail.address] });
    expect((await received(second)).message).toMatchObject({ held: false, sender: { verified: true, spf: 'pass', dmarc: 'none' } });
  });

  test('C12 C6 when DNS fails for the sender’s domain the mail is still kept and threaded, its checks recorded as temporary errors, and held', async () => {
    const c = await customer({ spf: 'v=spf1 ip4:127.0.0.1 -all', dmarc: 'v=DMARC1; p=none' });
    dns.fail(c.domain, 'ESERVFAIL');
    const secret = word();
    const subject = `Outage ${secret}`;
    const messageId = mid();
    expect(await sendRaw(mail.port, rawMail({ From: `boss@${c.domain}`, To: mail.address, Subject: subject, 'Message-ID': messageId }, `Down again ${secret}`), { from: `boss@${c.domain}`, to: [mail.address] })).toMatch(/^250 /);
    const { ticketId, message } = await received(messageId);
    expect(message).toMatchObject({ held: true, sender: { verified: false, spf: 'temperror', dkim: 'none', dmarc: 'temperror', dmarcPolicy: null } });
    expect(await c.portalView(ticketId, subject, secret)).toMatchObject({ listed: false, found: false, page: 404 });
  });

  test('C12 C6 a held mail joins no existing conversation even when it names one of ours, makes no contact for an address nobody knows, and mails no one; accepting it makes the contact', async () => {
    const c = await customer({ spf: 'v=spf1 -all', dmarc: 'v=DMARC1; p=quarantine' });
    // Contacts at the domain are invited to the portal as soon as they exist (an active list).
    const list = await t.app.services.lists.create({ name: unique('Staff of'), kind: 'active', filters: [{ property: 'email', operator: 'contains', value: `@${c.domain}` }] });
    await t.app.services.portals.update(c.portalId, { accessListIds: [list.id] });
    // A conversation staff started with the boss: its mail carries one of our signed Message-IDs.
    const started = await call('POST', '/api/v1/threads', { inboxId: mail.inboxId, contactId: c.boss.id, subject: 'Your renewal', message: { bodyText: 'Shall we renew?' } });
    expect(started.statusCode, started.body).toBe(201);
    const ours = await db().selectFrom('outbox').select('message_id').where('to_address', '=', c.boss.email).orderBy('id', 'desc').executeTakeFirstOrThrow();
    const mailsBefore = await outboxCount();

    const forged = mid();
    await sendRaw(mail.port, rawMail({ From: c.boss.email, To: mail.address, Subject: 'Re: Your renewal', 'Message-ID': forged, 'In-Reply-To': ours.message_id }, 'Yes, and send the invoice to my new address.'), { from: c.boss.email, to: [mail.address] });
    const reply = await received(forged);
    expect(reply.threadId).not.toBe(started.json<{ id: number }>().id);
    expect(reply.message.held).toBe(true);

    const stranger = `newcomer@${c.domain}`;
    const unknown = mid();
    await sendRaw(mail.port, rawMail({ From: `New Comer <${stranger}>`, To: mail.address, Subject: 'Hello', 'Message-ID': unknown }, 'I am new here.'), { from: stranger, to: [mail.address] });
    const fromStranger = await received(unknown);
    expect(fromStranger.message).toMatchObject({ held: true, contactId: null, sender: { address: stranger, verified: false, dmarc: 'fail', dmarcPolicy: 'quarantine' } });
    expect(fromStranger.thread.contactId).toBeNull();
    expect(await t.app.services.contacts.findByEmail(stranger)).toBeUndefined();
    expect(await outboxCount()).toBe(mailsBefore);

    const accepted = await call('POST', `/api/v1/threads/${fromStranger.threadId}/messages/${fromStranger.message.id}/accept`);
    expect(accepted.statusCode, accepted.body).toBe(200);
    const contact = await t.app.services.contacts.findByEmail(stranger);
    expect(contact).toBeDefined();
    expect(accepted.json()).toMatchObject({ held: false, contactId: contact?.id });
    expect((await call('GET', `/api/v1/threads/${fromStranger.threadId}`)).json()).toMatchObject({ contactId: contact?.id });
    const ticket = (await call('GET', `/api/v1/tickets/${fromStranger.ticketId}`)).json<{ contactIds: number[] }>();
    expect(ticket.contactIds).toContain(contact?.id);
    // Staff vouched for the address: it is now a contact like any other, invited by its list.
    expect(await db().selectFrom('outbox').select('kind').where('to_address', '=', stranger).execute()).toHaveLength(1);
  });
});
