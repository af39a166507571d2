import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { InboundWorker } from '../../src/modules/mail/inbound-worker.js';
import { dkimKey, dkimSigned, publishKey, TestDns } from '../helpers/dns-zone.js';
import { Dovecot, dovecotAvailable } from '../helpers/dovecot.js';
import { rawMail } from '../helpers/mail-in.js';
import { caller, createStaff, createTestApp, dialects, unique, type TestApp, type TestStaff } from '../helpers/test-app.js';

const available = dovecotAvailable('IMAP polling tests against Dovecot');
const PASSWORD = 'imap-secret-password';

// C6: an email channel may poll an IMAP mailbox instead of (or beside) the SMTP listener; tested
// against a real Dovecot on loopback that this file starts with its own configuration.

describe.skipIf(!available).each(dialects)('IMAP polling against Dovecot on %s', (dialect) => {
  let t: TestApp;
  let admin: TestStaff;
  let dovecot: Dovecot;
  const dns = new TestDns();
  const warnings: string[] = [];
  const log = { info: () => undefined, warn: (_o: object, msg: string) => void warnings.push(msg), error: (_o: object, msg: string) => void warnings.push(msg) };
  beforeAll(async () => {
    t = await createTestApp(dialect, {}, { dns });
    admin = await createStaff(t, { role: 'admin' });
    dovecot = await new Dovecot().start({ support: PASSWORD, checked: PASSWORD });
    // Tickets go to the first pipeline when the inbox names none.
    await t.app.services.pipelines.create({ name: 'Support', stages: [{ name: 'New', state: 'open' }, { name: 'Done', state: 'closed' }] });
  });
  afterAll(async () => {
    await dovecot.stop();
    await t.close();
  });
  const call = caller(() => t, () => admin);

  /** The outside world delivering into the mailbox: an IMAP APPEND as its owner. */
  async function deliver(messages: string[], user = 'support'): Promise<void> {
    const client = new ImapFlow({ host: '127.0.0.1', port: dovecot.port, secure: false, auth: { user, pass: PASSWORD }, logger: false });
    await client.connect();
    for (const m of messages) await client.append('INBOX', m);
    await client.logout();
  }
  async function unseen(): Promise<number> {
    const client = new ImapFlow({ host: '127.0.0.1', port: dovecot.port, secure: false, auth: { user: 'support', pass: PASSWORD }, logger: false });
    await client.connect();
    const lock = await client.getMailboxLock('INBOX');
    const uids = (await client.search({ seen: false }, { uid: true })) || [];
    lock.release();
    await client.logout();
    return uids.length;
  }

  test('C6 unseen mail in the mailbox becomes threads exactly once; it is then flagged seen; the password is sealed and never returned', async () => {
    const inbox = await call('POST', '/api/v1/inboxes', { name: unique('IMAP') });
    const address = `${unique('imap').toLowerCase()}@acme.example`;
    const created = await call('POST', `/api/v1/inboxes/${inbox.json<{ id: number }>().id}/channels`, {
      type: 'email', name: 'Support (IMAP)', address, imap: { host: '127.0.0.1', port: dovecot.port, secure: false, user: 'support', mailbox: 'INBOX', password: PASSWORD },
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.body).not.toContain(PASSWORD);
    expect(created.json().channels[0].imap).toEqual({ host: '127.0.0.1', port: dovecot.port, secure: false, user: 'support', mailbox: 'INBOX', passwordSet: true });
    const channelId = created.json<{ channels: { id: number }[] }>().channels[0]!.id;
    const row = await t.app.deps.db.selectFrom('channels').select(['imap_secret', 'imap_settings']).where('id', '=', channelId).executeTakeFirstOrThrow();
    expect(`${row.imap_secret ?? ''}${row.imap_settings ?? ''}`).not.toContain(PASSWORD);

    const ids = [unique('a'), unique('b'), unique('c')].map((x) => `<${x}@customer.example>`);
    await deliver([
      rawMail({ From: 'Ann <ann@customer.example>', To: address, Subject: 'First by IMAP', 'Message-ID': ids[0]! }, 'Hello from IMAP'),
      rawMail({ From: 'bob@customer.example', To: address, Subject: 'Second by IMAP', 'Message-ID': ids[1]! }, 'Another'),
      // The same mail twice in the mailbox (a forwarding rule, a retry): one thread.
      rawMail({ From: 'bob@customer.example', To: address, Subject: 'Second by IMAP', 'Message-ID': ids[1]! }, 'Another'),
    ]);
    expect(await unseen()).toBe(3);
    const worker = new InboundWorker(t.app.deps, t.app.services.inbound, t.app.services.inboxes, log);
    const round = await worker.runOnce();
    expect(round).toMatchObject({ polled: 1, fetched: 3 });
    expect(await unseen()).toBe(0);
    for (const id of ids.slice(0, 2)) {
      const rows = await t.app.deps.db.selectFrom('inbound_mail').selectAll().where('message_id', '=', id).execute();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ source: 'imap', channel_id: channelId, status: 'processed' });
    }
    const thread = await t.app.deps.db.selectFrom('threads').selectAll().where('channel_id', '=', channelId).where('subject', '=', 'First by IMAP').executeTakeFirstOrThrow();
    expect(thread.ticket_id).not.toBeNull();
    // Nothing new: nothing fetched.
    expect((await worker.runOnce()).fetched).toBe(0);
  });

  test('C12 mail fetched from a mailbox came on a connection Portico never saw: SPF is recorded as unchecked, DKIM is checked on its bytes and DMARC by DKIM alone; a signed mail passes, an unsigned one from a domain with DMARC is held', async () => {
    const domain = `${unique('mailbox').toLowerCase()}.example`;
    // SPF would fail (the sending server is not named), but it is not checked on mail fetched by IMAP.
    dns.txt(domain, 'v=spf1 ip4:192.0.2.10 -all').txt(`_dmarc.${domain}`, 'v=DMARC1; p=quarantine');
    const key = dkimKey(domain);
    publishKey(dns, key);
    const inbox = await call('POST', '/api/v1/inboxes', { name: unique('IMAP checked') });
    const address = `${unique('checked').toLowerCase()}@acme.example`;
    const created = await call('POST', `/api/v1/inboxes/${inbox.json<{ id: number }>().id}/channels`, {
      type: 'email', name: 'Checked (IMAP)', address, imap: { host: '127.0.0.1', port: dovecot.port, secure: false, user: 'checked', mailbox: 'INBOX', password: PASSWORD },
    });
    expect(created.statusCode, created.body).toBe(201);
    const signed = `<${unique('signed')}@${domain}>`;
    const unsigned = `<${unique('unsigned')}@${domain}>`;
    await deliver([
      await dkimSigned(rawMail({ From: `Ann <ann@${domain}>`, To: address, Subject: 'Signed by IMAP', 'Message-ID': signed }, 'Really me.'), key),
      rawMail({ From: `Ann <ann@${domain}>`, To: address, Subject: 'Unsigned by IMAP', 'Message-ID': unsigned }, 'Trust me.'),
    ], 'checked');
    await new InboundWorker(t.app.deps, t.app.services.inbound, t.app.services.inboxes, log).runOnce();
    const received = async (messageId: string) => {
      const row = await t.app.deps.db.selectFrom('inbound_mail').selectAll().where('message_id', '=', messageId).executeTakeFirstOrThrow();
      expect(row).toMatchObject({ source: 'imap', status: 'processed', client_ip: null });
      return (await call('GET', `/api/v1/threads/${row.thread_id ?? 0}/messages`)).json<{ items: object[] }>().items[0];
    };
    expect(await received(signed)).toMatchObject({
      held: false, sender: { address: `ann@${domain}`, verified: true, spf: 'unchecked', dkim: 'pass', dkimDomain: domain, dmarc: 'pass', dmarcPolicy: 'quarantine' },
    });
    expect(await received(unsigned)).toMatchObject({ held: true, sender: { verified: false, spf: 'unchecked', dkim: 'none', dmarc: 'fail', dmarcPolicy: 'quarantine' } });
  });

  test('C6 a wrong password or an unreachable server is logged and retried next round, without stopping the others', async () => {
    const inbox = await call('POST', '/api/v1/inboxes', { name: unique('IMAP bad') });
    const res = await call('POST', `/api/v1/inboxes/${inbox.json<{ id: number }>().id}/channels`, {
      type: 'email', name: 'Wrong', address: `${unique('wrong').toLowerCase()}@acme.example`, imap: { host: '127.0.0.1', port: dovecot.port, secure: false, user: 'support', mailbox: 'INBOX', password: 'not-the-password' },
    });
    expect(res.statusCode).toBe(201);
    const noPassword = await call('POST', `/api/v1/inboxes/${inbox.json<{ id: number }>().id}/channels`, {
      type: 'email', name: 'No password', address: `${unique('nopw').toLowerCase()}@acme.example`, imap: { host: '127.0.0.1', port: dovecot.port, secure: false, user: 'support', mailbox: 'INBOX' },
    });
    expect(noPassword.statusCode).toBe(400);
    expect(noPassword.json().errors).toEqual([{ path: '/body/imap/password', label: 'Password', message: 'Enter the mailbox password: it is needed the first time.' }]);
    const worker = new InboundWorker(t.app.deps, t.app.services.inbound, t.app.services.inboxes, log);
    warnings.length = 0;
    const round = await worker.runOnce();
    expect(round.polled).toBeGreaterThanOrEqual(1);
    expect(warnings).toContain('IMAP mailbox could not be read; trying again next round');
  });
});
