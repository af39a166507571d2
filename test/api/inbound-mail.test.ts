import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { InboundWorker } from '../../src/modules/mail/inbound-worker.js';
import { OutboxWorker, smtpTransport } from '../../src/modules/mail/outbox-worker.js';
import { SmtpSink } from '../helpers/smtp-sink.js';
import { caller, createStaff, createTestApp, dialects, rowCounts, unique, type TestApp, type TestStaff } from '../helpers/test-app.js';
import { quietLog, rawMail, sendRaw, smtpClient, startMailIn, type MailIn } from '../helpers/mail-in.js';

// C6 P2 P27: incoming email over real SMTP (Portico's listener, smtp-server, parsed with
// postal-mime): mail to a connected address becomes a thread and a ticket for the sender's
// contact; replies join their thread only through a Message-ID Portico signed; the same mail
// twice is kept once; automatic mail never answers automatic mail; hostile and broken mail is
// kept, never crashes anything, and waits in the failed-mail store.

describe.each(dialects)('incoming mail on %s', (dialect) => {
  let t: TestApp;
  let admin: TestStaff;
  let mail: MailIn;
  beforeAll(async () => {
    t = await createTestApp(dialect, { MAIL_FROM: 'Acme Support <support@acme.example>' });
    admin = await createStaff(t, { role: 'admin' });
    mail = await startMailIn(t);
  });
  afterAll(async () => {
    await mail.listener.stop();
    await t.close();
  });
  const call = caller(() => t, () => admin);
  const db = () => t.app.deps.db;
  const inboundByMessageId = (messageId: string) => db().selectFrom('inbound_mail').selectAll().where('message_id', '=', messageId).executeTakeFirst();
  /** The mail's row once the listener's processing (which runs after the 250) is done. */
  async function settled(messageId: string) {
    await mail.listener.idle();
    const row = await inboundByMessageId(messageId);
    if (row === undefined || row.status === 'received') throw new Error(`mail ${messageId} was not processed`);
    return row;
  }
  const mid = () => `<${unique('m')}@customer.example>`;

  test('C6 P2 P27 a mail to a connected address becomes a ticket and thread for its sender (a new contact), with its attachment and inline image; HTML is cleaned', async () => {
    const from = `${unique('erin')}@customer.example`;
    const messageId = mid();
    const info = await smtpClient(mail.port).sendMail({
      from: `Erin Example <${from}>`, to: mail.address, subject: 'Printer is on fire', messageId,
      text: 'It started smoking at 9.', html: '<p>It started <b>smoking</b> at 9.<script>alert(1)</script><img src="cid:logo@x"></p>',
      attachments: [{ filename: '../../etc/passwd<script>.txt', content: 'not really' }, { filename: 'logo.png', content: Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), cid: 'logo@x' }],
    });
    expect(info.response).toMatch(/^250 /);
    const row = await settled(messageId);
    expect(row).toMatchObject({ status: 'processed', source: 'smtp', channel_id: mail.channelId, subject: 'Printer is on fire' });
    const thread = await db().selectFrom('threads').selectAll().where('id', '=', row.thread_id ?? 0).executeTakeFirstOrThrow();
    const contact = await t.app.services.contacts.findByEmail(from);
    expect(contact).toMatchObject({ first_name: 'Erin Example' });
    expect(thread).toMatchObject({ inbox_id: mail.inboxId, channel_id: mail.channelId, contact_id: contact?.id, subject: 'Printer is on fire' });
    const ticket = await db().selectFrom('tickets').selectAll().where('id', '=', thread.ticket_id ?? 0).executeTakeFirstOrThrow();
    expect(ticket).toMatchObject({ subject: 'Printer is on fire', pipeline_id: mail.pipelineId, source: 'email' });
    const [message] = await db().selectFrom('messages').selectAll().where('thread_id', '=', thread.id).execute();
    expect(message).toMatchObject({ author_type: 'customer', contact_id: contact?.id, kind: 'message' });
    expect(message?.body_text).toContain('It started smoking at 9.');
    expect(message?.body_html).toContain('<b>smoking</b>');
    expect(message?.body_html).not.toContain('script');
    const files = await db().selectFrom('attachments').select(['filename', 'size']).where('message_id', '=', message?.id ?? 0).orderBy('id').execute();
    expect(files.map((f) => f.filename).sort()).toEqual(['logo.png', 'passwd_script_.txt']);
    // P27: on the contact's and the ticket's timeline as an email engagement.
    const timeline = await db().selectFrom('engagement_targets as et').innerJoin('engagements as e', 'e.id', 'et.engagement_id').select(['e.type', 'et.target_type'])
      .where('e.message_id', '=', message?.id ?? 0).execute();
    expect(timeline).toEqual(expect.arrayContaining([{ type: 'email', target_type: 'contact' }, { type: 'email', target_type: 'ticket' }]));
    const listed = await call('GET', '/api/v1/inbound-mail?status=processed');
    expect(listed.json<{ items: { id: number; threadId: number }[] }>().items).toContainEqual(expect.objectContaining({ id: row.id, threadId: thread.id }));
  });

  test('P2 mail to an address no inbox connects is refused at RCPT TO and never stored', async () => {
    const before = await rowCounts(t);
    await expect(sendRaw(mail.port, rawMail({ From: 'x@customer.example', To: 'nobody@acme.example', Subject: 'Hi', 'Message-ID': mid() }, 'Hello'), { from: 'x@customer.example', to: ['nobody@acme.example'] }))
      .rejects.toThrow(/550/);
    expect(await rowCounts(t)).toEqual(before);
  });

  test('C6 the same Message-ID delivered twice, and five times at once, is stored and threaded once', async () => {
    const messageId = mid();
    const raw = rawMail({ From: 'dup@customer.example', To: mail.address, Subject: 'Twice', 'Message-ID': messageId }, 'Once, please.');
    const envelope = { from: 'dup@customer.example', to: [mail.address] };
    expect(await sendRaw(mail.port, raw, envelope)).toMatch(/^250 .*Queued/);
    expect(await sendRaw(mail.port, raw, envelope)).toMatch(/^250 .*Already received/);
    const concurrent = mid();
    const raw2 = raw.replace(messageId, concurrent);
    const answers = await Promise.all(Array.from({ length: 5 }, () => sendRaw(mail.port, raw2, envelope)));
    expect(answers.every((a) => a.startsWith('250'))).toBe(true);
    for (const id of [messageId, concurrent]) {
      await settled(id);
      const rows = await db().selectFrom('inbound_mail').select(['id', 'thread_id']).where('message_id', '=', id).execute();
      expect(rows).toHaveLength(1);
      expect(await db().selectFrom('messages').select('id').where('thread_id', '=', rows[0]?.thread_id ?? 0).execute()).toHaveLength(1);
    }
  });

  test('C6 a later mail that reuses a Message-ID with other content is kept as a mail of its own, marked; the same mail by another route is one', async () => {
    const messageId = mid();
    const from = `${unique('first')}@customer.example`;
    const envelope = { from, to: [mail.address] };
    const original = rawMail({ From: from, To: mail.address, Subject: 'The original', 'Message-ID': messageId }, 'The genuine first mail.');
    expect(await sendRaw(mail.port, original, envelope)).toMatch(/^250 .*Queued/);
    // The same mail by another route: relays add trace headers, it is still the same mail.
    expect(await sendRaw(mail.port, `Received: from relay2.example by mx2.example; Mon, 7 Dec 2026 10:00:00 +0000\r\nDelivered-To: ${mail.address}\r\n${original}`, envelope)).toMatch(/^250 .*Already received/);
    // Anyone who knows the Message-ID (it is in every reply chain) sends something else under it.
    const later = rawMail({ From: from, To: mail.address, Subject: 'A later genuine mail', 'Message-ID': messageId }, 'Not to be lost.');
    expect(await sendRaw(mail.port, later, envelope)).toMatch(/^250 .*Queued/);
    await mail.listener.idle();
    const rows = await db().selectFrom('inbound_mail').selectAll().where('message_id', '=', messageId).orderBy('id').execute();
    expect(rows.map((r) => [r.subject, r.status])).toEqual([['The original', 'processed'], ['A later genuine mail', 'processed']]);
    expect(rows[1]!.duplicate_of).toBe(rows[0]!.id);
    const bodies = await db().selectFrom('messages').select('body_text').where('thread_id', 'in', rows.map((r) => r.thread_id ?? 0)).execute();
    expect(bodies.map((b) => b.body_text.trim()).sort()).toEqual(['Not to be lost.', 'The genuine first mail.']);
    expect((await call('GET', `/api/v1/inbound-mail/${rows[1]!.id}`)).json()).toMatchObject({ sameMessageIdAs: rows[0]!.id });
  });

  test('C6 the failed-mail store shows headers decoded as the mail parser reads them; attachment names are cut by bytes, never inside a character', async () => {
    const from = `${unique('jurgen')}@customer.example`;
    const messageId = mid();
    const long = `${'Źdźbło żółwia '.repeat(20)}.pdf`;
    const raw = Buffer.concat([
      Buffer.from(`From: Jürgen Groß <${from}>\r\nTo: ${mail.address}\r\nSubject: =?UTF-8?B?${Buffer.from('Grüße aus Köln').toString('base64')}?=\r\nMessage-ID: ${messageId}\r\n`, 'utf8'),
      Buffer.from(`Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee the file\r\n--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename*=UTF-8''${encodeURIComponent(long)}\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n`, 'utf8'),
    ]);
    await sendRaw(mail.port, raw, { from, to: [mail.address] });
    const row = await settled(messageId);
    expect(row.subject).toBe('Grüße aus Köln');
    expect(row.from_address).toBe(`Jürgen Groß <${from}>`);
    const listed = (await call('GET', `/api/v1/inbound-mail/${row.id}`)).json<{ subject: string; from: string }>();
    expect(listed).toMatchObject({ subject: 'Grüße aus Köln', from: `Jürgen Groß <${from}>` });
    const message = await db().selectFrom('messages').select('id').where('thread_id', '=', row.thread_id ?? 0).executeTakeFirstOrThrow();
    const [file] = await db().selectFrom('attachments').select('filename').where('message_id', '=', message.id).execute();
    expect(Buffer.byteLength(long)).toBeGreaterThan(255);
    expect(Buffer.byteLength(file!.filename)).toBeLessThanOrEqual(255);
    expect(file!.filename).not.toContain('\uFFFD');
    expect(file!.filename.endsWith('.pdf')).toBe(true);
    expect(long.startsWith(file!.filename.slice(0, -4).trimEnd())).toBe(true);
  });

  test('C6 a staff reply says where answers go (the inbox’s address), and a mail program’s answer to it lands in the thread', async () => {
    const from = `${unique('ola')}@customer.example`;
    const first = mid();
    await sendRaw(mail.port, rawMail({ From: `Ola <${from}>`, To: mail.address, Subject: 'Where is my order', 'Message-ID': first }, 'Still waiting.'), { from, to: [mail.address] });
    const threadId = (await settled(first)).thread_id ?? 0;
    expect((await call('POST', `/api/v1/threads/${threadId}/messages`, { bodyText: 'It ships today.' })).statusCode).toBe(201);
    const sink = await new SmtpSink().start();
    try {
      const sender = new OutboxWorker(t.app.deps, smtpTransport({ host: '127.0.0.1', port: sink.port, secure: false, requireTls: false, user: null, password: null }), quietLog);
      await sender.runOnce();
      await sender.stop();
      const sent = sink.received.find((r) => r.to.includes(from));
      expect(sent).toBeDefined();
      // From is MAIL_FROM; answers go to the inbox's own address, which the listener takes.
      expect(sent!.parsed.from?.address).toBe('support@acme.example');
      expect(sent!.parsed.replyTo?.map((a) => a.address)).toEqual([mail.address]);
      // The customer presses Reply: their mail program writes to Reply-To, quoting the Message-ID.
      const answer = mid();
      const info = await smtpClient(mail.port).sendMail({
        from: `Ola <${from}>`, to: sent!.parsed.replyTo![0]!.address!, subject: `Re: ${sent!.parsed.subject ?? ''}`, messageId: answer,
        inReplyTo: sent!.parsed.messageId, references: [first, sent!.parsed.messageId!], text: 'Great, thanks!',
      });
      expect(info.response).toMatch(/^250 /);
      expect((await settled(answer)).thread_id).toBe(threadId);
    } finally {
      await sink.stop();
    }
  });

  test('C6 a staff reply mails the customer with a signed Message-ID; answering it lands in the same thread, reopened; a forged or a stranger’s reply starts a new thread', async () => {
    const from = `${unique('rita')}@customer.example`;
    const first = mid();
    await sendRaw(mail.port, rawMail({ From: `Rita <${from}>`, To: mail.address, Subject: 'Invoice wrong', 'Message-ID': first }, 'The total is wrong.'), { from, to: [mail.address] });
    const threadId = (await settled(first)).thread_id ?? 0;
    const reply = await call('POST', `/api/v1/threads/${threadId}/messages`, { bodyText: 'Sorry, fixed.\n\nKind regards' });
    expect(reply.statusCode, reply.body).toBe(201);
    // An internal comment mails nobody.
    await call('POST', `/api/v1/threads/${threadId}/messages`, { bodyText: 'internal only', kind: 'comment' });
    const outgoing = await db().selectFrom('outbox').selectAll().where('to_address', '=', from).execute();
    expect(outgoing).toHaveLength(1);
    const sent = outgoing[0]!;
    expect(sent).toMatchObject({ kind: 'thread.reply', subject: 'Re: Invoice wrong', in_reply_to: first, reference_ids: first });
    expect(sent.text_body).toContain('Sorry, fixed.');
    expect(sent.text_body).not.toContain('internal only');
    expect(t.app.services.replyTokens.threadOf(sent.message_id)).toBe(threadId);
    await call('PATCH', `/api/v1/threads/${threadId}`, { status: 'closed' });

    const answer = mid();
    await sendRaw(mail.port, rawMail({ From: from, To: mail.address, Subject: 'Re: Invoice wrong', 'Message-ID': answer, 'In-Reply-To': sent.message_id, References: `${first} ${sent.message_id}` }, 'Thanks!'), { from, to: [mail.address] });
    expect((await settled(answer)).thread_id).toBe(threadId);
    expect((await db().selectFrom('threads').select('status').where('id', '=', threadId).executeTakeFirstOrThrow()).status).toBe('open');

    // A made-up token for the same thread, and a guessable reference to the customer's own mail: a new thread.
    const forged = mid();
    const fake = sent.message_id.replace(/\.([A-Za-z0-9_-]{22})@/, (_m, mac: string) => `.${mac.startsWith('A') ? 'B' : 'A'}${mac.slice(1)}@`);
    await sendRaw(mail.port, rawMail({ From: from, To: mail.address, Subject: 'Re: Invoice wrong', 'Message-ID': forged, 'In-Reply-To': fake, References: first }, 'Forged'), { from, to: [mail.address] });
    expect((await settled(forged)).thread_id).not.toBe(threadId);
    // Someone else holding the real Message-ID (a forwarded mail) does not join Rita's ticket.
    const stranger = mid();
    await sendRaw(mail.port, rawMail({ From: 'mallory@evil.example', To: mail.address, Subject: 'Re: Invoice wrong', 'Message-ID': stranger, 'In-Reply-To': sent.message_id }, 'Let me in'), { from: 'mallory@evil.example', to: [mail.address] });
    expect((await settled(stranger)).thread_id).not.toBe(threadId);
  });

  test('C6 automatic replies and bounces are kept but set aside: no thread, and no mail back (no loop)', async () => {
    const cases: [string, Record<string, string>, string, RegExp][] = [
      ['out of office', { From: 'ooo@customer.example', 'Auto-Submitted': 'auto-replied', Subject: 'Out of office' }, 'Back Monday.', /Auto-Submitted/],
      ['precedence bulk', { From: 'news@customer.example', Precedence: 'bulk', Subject: 'Newsletter' }, 'News', /Precedence/],
      ['x-autoreply', { From: 'ar@customer.example', 'X-Autoreply': 'yes', Subject: 'Auto' }, 'Auto', /x-autoreply/],
      ['bounce', { From: 'MAILER-DAEMON@mx.customer.example', Subject: 'Undelivered Mail', 'Content-Type': 'multipart/report; report-type=delivery-status; boundary="b"' }, '--b\r\nContent-Type: text/plain\r\n\r\nGone\r\n--b--', /bounce/],
      ['ourselves', { From: 'support@acme.example', Subject: 'Loop' }, 'Loop', /Portico itself/],
    ];
    const before = await db().selectFrom('outbox').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    for (const [name, headers, body, reason] of cases) {
      const id = mid();
      await sendRaw(mail.port, rawMail({ ...headers, To: mail.address, 'Message-ID': id }, body), { from: name === 'bounce' ? '' : 'x@customer.example', to: [mail.address] });
      const row = await settled(id);
      expect(row.status, name).toBe('ignored');
      expect(row.reason, name).toMatch(reason);
      expect(row.thread_id, name).toBeNull();
    }
    expect(await db().selectFrom('outbox').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).toEqual(before);
  });

  test('C6 a corpus of broken and hostile mail is taken without a crash and nothing is lost: each is threaded, set aside or in the failed-mail store, where staff reprocess it', async () => {
    const nested = (depth: number): string => (depth === 0 ? 'Content-Type: text/plain\r\n\r\ndeep\r\n'
      : `Content-Type: multipart/mixed; boundary="b${depth}"\r\n\r\n--b${depth}\r\n${nested(depth - 1)}--b${depth}--\r\n`);
    const corpus: [string, string][] = [
      ['broken boundary', rawMail({ From: 'a@customer.example', Subject: 'Broken', 'Content-Type': 'multipart/mixed; boundary="nope"' }, '--other\r\nContent-Type: text/plain\r\n\r\nlost boundary\r\n')],
      ['deep nesting', `From: b@customer.example\r\nSubject: Deep\r\nMIME-Version: 1.0\r\n${nested(150)}`],
      ['bad charset', rawMail({ From: 'c@customer.example', Subject: '=?x-unknown?B?w7PFgsSZ?=', 'Content-Type': 'text/plain; charset="x-no-such-charset"' }, 'Za\xbf\xf3\xb3\xe6 g\xea\xb6l\xb1 ja\xbc\xf1')],
      ['script and ../ in filenames', rawMail({ From: 'd@customer.example', Subject: 'Files', 'Content-Type': 'multipart/mixed; boundary="f"' },
        '--f\r\nContent-Type: text/plain\r\n\r\nsee files\r\n--f\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="../../../<script>alert(1)</script>.exe"\r\nContent-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA\r\n--f--\r\n')],
      ['header line over 998 characters', rawMail({ From: 'e@customer.example', Subject: `Long ${'x'.repeat(5000)}`, 'X-Long': 'y'.repeat(20000) }, 'long headers')],
      ['no From', rawMail({ Subject: 'Who am I' }, 'nobody')],
      ['binary garbage', `\x00\x01\x02garbage\r\n\r\n${'\xff'.repeat(1000)}`],
      ['empty body', rawMail({ From: 'f@customer.example', Subject: '' }, '')],
    ];
    const results: Record<string, { status: string; reason: string | null }> = {};
    for (const [name, raw] of corpus) {
      const id = mid();
      const withId = raw.startsWith('\x00') ? raw : `Message-ID: ${id}\r\nTo: ${mail.address}\r\n${raw}`;
      const answer = await sendRaw(mail.port, Buffer.from(withId, 'latin1'), { from: 'x@customer.example', to: [mail.address] });
      expect(answer, name).toMatch(/^250 /);
      const row = raw.startsWith('\x00')
        ? await (async () => {
          await mail.listener.idle();
          return db().selectFrom('inbound_mail').selectAll().where('message_id', 'is', null).orderBy('id', 'desc').executeTakeFirstOrThrow();
        })()
        : await settled(id);
      results[name] = { status: row.status, reason: row.reason };
      expect(['processed', 'failed', 'ignored'], name).toContain(row.status);
    }
    expect(results['no From']).toEqual({ status: 'failed', reason: 'no usable sender address' });
    expect(results['deep nesting']?.status).toBe('failed');
    expect(results['script and ../ in filenames']?.status).toBe('processed');
    const evil = await db().selectFrom('attachments').select('filename').orderBy('id', 'desc').executeTakeFirstOrThrow();
    expect(evil.filename).not.toMatch(/[/\\<>]/);
    expect(results['header line over 998 characters']?.status).toBe('processed');
    expect(results['bad charset']?.status).toBe('processed');
    // The listener still answers after all of it.
    expect(await sendRaw(mail.port, rawMail({ From: 'g@customer.example', To: mail.address, Subject: 'Still there?', 'Message-ID': mid() }, 'yes'), { from: 'g@customer.example', to: [mail.address] })).toMatch(/^250 /);

    // The failed-mail store: listed, readable raw, reprocessed on demand.
    const failed = await call('GET', '/api/v1/inbound-mail?status=failed');
    const items = failed.json<{ items: { id: number; reason: string; subject: string | null }[] }>().items;
    const noFrom = items.find((i) => i.subject === 'Who am I');
    expect(noFrom?.reason).toBe('no usable sender address');
    const raw = await call('GET', `/api/v1/inbound-mail/${noFrom?.id ?? 0}/raw`);
    expect(raw.headers['content-type']).toContain('message/rfc822');
    expect(raw.headers['content-disposition']).toMatch(/^attachment/);
    expect(raw.body).toContain('Subject: Who am I');
    const again = await call('POST', `/api/v1/inbound-mail/${noFrom?.id ?? 0}/reprocess`);
    expect(again.json()).toMatchObject({ status: 'failed', attempts: 2 });
    const processed = items.length === 0 ? undefined : (await call('GET', '/api/v1/inbound-mail?status=processed')).json<{ items: { id: number }[] }>().items[0];
    expect((await call('POST', `/api/v1/inbound-mail/${processed?.id ?? 0}/reprocess`)).statusCode).toBe(409);
  });

  test('C6 a mail over the size limit is refused with 552 and nothing is kept; mail kept but not processed (a crash after the 250) is processed by the worker', async () => {
    const small = await startMailIn(t, { maxBytes: 64 * 1024 });
    const before = await rowCounts(t);
    await expect(sendRaw(small.port, rawMail({ From: 'big@customer.example', To: small.address, Subject: 'Big', 'Message-ID': mid() }, 'x'.repeat(200 * 1024)), { from: 'big@customer.example', to: [small.address] }))
      .rejects.toThrow(/552/);
    expect((await rowCounts(t)).inbound_mail).toBe(before.inbound_mail);
    await small.listener.stop();

    const id = mid();
    const stored = await t.app.services.inbound.store({ source: 'smtp', channelId: mail.channelId, envelopeFrom: 'late@customer.example', recipients: [mail.address], raw: Buffer.from(rawMail({ From: 'late@customer.example', To: mail.address, Subject: 'Late', 'Message-ID': id }, 'after a crash')) });
    expect((await inboundByMessageId(id))?.status).toBe('received');
    const worker = new InboundWorker(t.app.deps, t.app.services.inbound, t.app.services.inboxes, quietLog);
    const round = await worker.runOnce();
    expect(round.processed).toBeGreaterThanOrEqual(1);
    expect(await t.app.services.inbound.get(stored.id)).toMatchObject({ status: 'processed' });
  });

  test('C6 a mail whose processing keeps failing is retried each round, and after five attempts waits in the failed-mail store', async () => {
    const id = mid();
    const stored = await t.app.services.inbound.store({ source: 'smtp', channelId: mail.channelId, envelopeFrom: 'flaky@customer.example', recipients: [mail.address], raw: Buffer.from(rawMail({ From: 'flaky@customer.example', To: mail.address, Subject: 'Flaky', 'Message-ID': id }, 'again and again')) });
    const conversations = t.app.services.conversations;
    const original = conversations.addMessageIn.bind(conversations);
    // The database failing under one mail's processing, every time (not a 4xx: nothing to tell the sender).
    conversations.addMessageIn = () => Promise.reject(new Error('connection lost'));
    const errors: string[] = [];
    const worker = new InboundWorker(t.app.deps, t.app.services.inbound, t.app.services.inboxes, { ...quietLog, error: (_o: object, msg: string) => void errors.push(msg) });
    try {
      for (let round = 0; round < 5; round++) await worker.runOnce();
    } finally {
      conversations.addMessageIn = original;
    }
    expect(errors.filter((e) => e.includes('will be retried'))).toHaveLength(5);
    expect(await t.app.services.inbound.get(stored.id)).toMatchObject({ status: 'received', attempts: 5, thread_id: null });
    await worker.runOnce();
    expect(await t.app.services.inbound.get(stored.id)).toMatchObject({ status: 'failed', reason: 'processing failed five times' });
    // Staff can still send it through again once the cause is gone.
    const again = await call('POST', `/api/v1/inbound-mail/${stored.id}/reprocess`);
    expect(again.json()).toMatchObject({ status: 'processed' });
  });
});
