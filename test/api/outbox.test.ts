import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { backoffMs, isPermanent, LEASE_MS, MAX_AGE_MS, OutboxWorker, smtpTransport, type MailTransport } from '../../src/modules/mail/outbox-worker.js';
import type { OutgoingMail } from '../../src/modules/mail/outbox.service.js';
import { caller, createStaff, createTestApp, dialects, unique, type TestApp, type TestStaff } from '../helpers/test-app.js';
import { SmtpSink } from '../helpers/smtp-sink.js';

// C6, the outgoing half: the outbox, written in the transaction of the change that causes the
// mail, sent over real SMTP (a loopback smtp-server) by the worker.

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe.each(dialects)('the outbox on %s', (dialect) => {
  let t: TestApp;
  let sink: SmtpSink;
  let admin: TestStaff;
  const workers: OutboxWorker[] = [];
  beforeAll(async () => {
    t = await createTestApp(dialect, { MAIL_FROM: 'Acme Support <support@acme.example>' });
    sink = await new SmtpSink().start();
    admin = await createStaff(t, { role: 'admin' });
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    // Each test sees only its own mail: what earlier tests left is marked sent.
    await t.app.deps.db.updateTable('outbox').set({ status: 'sent' }).where('status', '!=', 'sent').execute();
  });
  afterAll(async () => {
    await sink.stop();
    await t.close();
  });
  const call = caller(() => t, () => admin);

  function worker(): OutboxWorker {
    const w = new OutboxWorker(t.app.deps, smtpTransport({ host: '127.0.0.1', port: sink.port, secure: false, requireTls: false, user: null, password: null }), silent);
    workers.push(w);
    return w;
  }

  const mail = (to: string, changes: Partial<OutgoingMail> = {}): OutgoingMail => ({
    kind: 'test.mail', to: { address: to, name: 'Cora Customer' }, subject: 'Your link', text: `Hello\nhttps://portal.example/verify?t=${unique('tok')}`,
    html: '<p>Hello <a href="https://portal.example/verify">verify</a></p>', ...changes,
  });
  const enqueue = (m: OutgoingMail) => t.app.services.outbox.enqueue(t.app.deps.db, m);
  const messagesTo = (address: string) => sink.received.filter((r) => r.to.includes(address));

  test('C6 mail exists exactly when the change that wrote it commits', async () => {
    const to = `${unique('rollback')}@example.com`;
    await expect(t.app.deps.db.transaction().execute(async (tx) => {
      await t.app.services.outbox.enqueue(tx, mail(to));
      throw new Error('the change failed');
    })).rejects.toThrow('the change failed');
    expect(await t.app.deps.db.selectFrom('outbox').select('id').where('to_address', '=', to).execute()).toEqual([]);
    await t.app.deps.db.transaction().execute((tx) => t.app.services.outbox.enqueue(tx, mail(to)));
    expect((await t.app.deps.db.selectFrom('outbox').select('status').where('to_address', '=', to).execute()).map((r) => r.status)).toEqual(['queued']);
  });

  test('C6 the worker sends over SMTP: envelope, headers, text and HTML parts, the link, a stable Message-ID; nothing typed adds a header', async () => {
    const to = `${unique('cora')}@example.com`;
    const row = await enqueue(mail(to, { to: { address: to, name: 'Eve\r\nBcc: spy@evil.example' }, subject: 'Hi\r\nBcc: spy@evil.example\nX-Evil: 1 żółć' }));
    expect(row.message_id).toMatch(/^<[0-9a-f-]{36}@acme\.example>$/);
    expect(await worker().runOnce()).toEqual({ sent: 1, retried: 0, failed: 0 });
    const [got] = messagesTo(to);
    expect(got).toBeDefined();
    expect(got!.to).toEqual([to]);
    expect(got!.from).toBe('support@acme.example');
    expect(got!.parsed.messageId).toBe(row.message_id);
    expect(got!.parsed.subject).toBe('Hi Bcc: spy@evil.example X-Evil: 1 żółć');
    expect(got!.parsed.from).toMatchObject({ address: 'support@acme.example', name: 'Acme Support' });
    expect(got!.parsed.to?.[0]).toMatchObject({ address: to, name: 'Eve Bcc: spy@evil.example' });
    expect(got!.header('bcc')).toEqual([]);
    expect(got!.header('x-evil')).toEqual([]);
    expect(got!.header('auto-submitted')).toEqual(['auto-generated']);
    expect(got!.parsed.text).toContain('https://portal.example/verify?t=');
    expect(got!.parsed.html).toContain('<a href="https://portal.example/verify">verify</a>');
    expect(got!.raw).toMatch(/Content-Type: multipart\/alternative/i);
    const sent = await t.app.services.outbox.get(row.id);
    expect(sent).toMatchObject({ status: 'sent', attempts: 1, last_error: null, sent_at: t.clock.now() });
    // Nothing left to do: a second round sends nothing.
    expect(await worker().runOnce()).toEqual({ sent: 0, retried: 0, failed: 0 });
    expect(messagesTo(to)).toHaveLength(1);
  });

  test('C6 with the server down mail waits, each wait longer; back up, every message is delivered exactly once', async () => {
    const tos = Array.from({ length: 5 }, () => `${unique('down')}@example.com`);
    await sink.stop();
    try {
      for (const to of tos) await enqueue(mail(to));
      const w = worker();
      expect(await w.runOnce()).toEqual({ sent: 0, retried: 5, failed: 0 });
      const first = await t.app.deps.db.selectFrom('outbox').selectAll().where('to_address', 'in', tos).execute();
      for (const row of first) {
        expect(row).toMatchObject({ status: 'queued', attempts: 1 });
        expect(row.last_error).toMatch(/ECONNREFUSED|ECONNECTION|ESOCKET/);
        expect(row.next_attempt_at - t.clock.now()).toBeGreaterThanOrEqual(30_000);
        expect(row.next_attempt_at - t.clock.now()).toBeLessThanOrEqual(33_000);
      }
      // Not due yet: nothing is tried.
      expect(await w.runOnce()).toEqual({ sent: 0, retried: 0, failed: 0 });
      t.clock.advance(34_000);
      expect(await w.runOnce()).toEqual({ sent: 0, retried: 5, failed: 0 });
      const second = await t.app.deps.db.selectFrom('outbox').select(['attempts', 'next_attempt_at']).where('to_address', 'in', tos).execute();
      for (const row of second) {
        expect(row.attempts).toBe(2);
        expect(row.next_attempt_at - t.clock.now()).toBeGreaterThanOrEqual(60_000);
      }
    } finally {
      await sink.start();
    }
    t.clock.advance(2 * 3_600_000);
    expect(await worker().runOnce()).toEqual({ sent: 5, retried: 0, failed: 0 });
    for (const to of tos) expect(messagesTo(to)).toHaveLength(1);
    const ids = new Set(tos.flatMap((to) => messagesTo(to).map((m) => m.parsed.messageId)));
    expect(ids.size).toBe(5);
  });

  test('C6 a 5xx refusal fails the mail for good, where staff see it and may send it again; a 4xx is tried later', async () => {
    const bounce = `${unique('bounce')}@example.com`;
    const busy = `${unique('busy')}@example.com`;
    sink.reject(bounce, 550, 'No such user here');
    sink.reject(busy, 451, 'Try again later');
    const failedRow = await enqueue(mail(bounce));
    const busyRow = await enqueue(mail(busy));
    expect(await worker().runOnce()).toEqual({ sent: 0, retried: 1, failed: 1 });
    expect(await t.app.services.outbox.get(failedRow.id)).toMatchObject({ status: 'failed', last_error: expect.stringContaining('550') as unknown });
    expect(await t.app.services.outbox.get(busyRow.id)).toMatchObject({ status: 'queued', last_error: expect.stringContaining('451') as unknown });

    const listed = await call('GET', '/api/v1/outbox?status=failed');
    expect(listed.statusCode).toBe(200);
    expect(listed.json().items.map((i: { id: number }) => i.id)).toContain(failedRow.id);
    const one = await call('GET', `/api/v1/outbox/${failedRow.id}`);
    expect(one.json()).toMatchObject({ id: failedRow.id, to: bounce, status: 'failed', from: 'support@acme.example', fromName: 'Acme Support', messageId: failedRow.message_id });
    expect(one.json().text).toContain('https://portal.example/verify?t=');
    expect((await call('POST', `/api/v1/outbox/${busyRow.id}/retry`)).statusCode).toBe(409);
    const again = await call('POST', `/api/v1/outbox/${failedRow.id}/retry`);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ status: 'queued', attempts: 0 });
    expect((await call('GET', `/api/v1/outbox?to=${encodeURIComponent(bounce)}`)).json().items).toHaveLength(1);
    expect((await call('GET', '/api/v1/outbox/999999999')).statusCode).toBe(404);
    expect((await call('GET', '/api/v1/outbox?status=lost')).statusCode).toBe(400);
    expect((await call('GET', '/api/v1/outbox?cursor=zzz')).statusCode).toBe(400);
    const agent = await createStaff(t, { permissions: ['portal_settings'] });
    expect((await call('GET', '/api/v1/outbox', undefined, agent)).statusCode).toBe(403);
    expect((await call('POST', `/api/v1/outbox/${failedRow.id}/retry`, undefined, agent)).statusCode).toBe(403);
  });

  test('C6 mail that could not be sent for three days is given up and marked failed', async () => {
    const to = `${unique('late')}@example.com`;
    const row = await enqueue(mail(to));
    await sink.stop();
    try {
      const w = worker();
      expect((await w.runOnce()).retried).toBe(1);
      t.clock.advance(MAX_AGE_MS);
      expect((await w.runOnce()).failed).toBe(1);
    } finally {
      await sink.start();
    }
    expect(await t.app.services.outbox.get(row.id)).toMatchObject({ status: 'failed', last_error: expect.stringMatching(/^gave up after 2 attempts/) as unknown });
  });

  test('C6 two workers at once never send a message twice', async () => {
    const tos = Array.from({ length: 45 }, () => `${unique('pair')}@example.com`);
    for (const to of tos) await enqueue(mail(to));
    const [a, b] = [worker(), worker()];
    const [ra, rb] = await Promise.all([a.runOnce(), b.runOnce()]);
    expect(ra.sent + rb.sent).toBe(45);
    for (const to of tos) expect(messagesTo(to)).toHaveLength(1);
  });

  test('C6 a mail whose sender died mid-send is taken over after its lease, and sent again with the same Message-ID', async () => {
    const to = `${unique('lease')}@example.com`;
    const row = await enqueue(mail(to));
    // A worker claimed it and vanished: the row says sending, with a lease.
    await t.app.deps.db.updateTable('outbox').set({ status: 'sending', attempts: 1, claimed_until: t.clock.now() + LEASE_MS }).where('id', '=', row.id).execute();
    expect((await worker().runOnce()).sent).toBe(0);
    t.clock.advance(LEASE_MS);
    expect((await worker().runOnce()).sent).toBe(1);
    expect(messagesTo(to).map((m) => m.parsed.messageId)).toEqual([row.message_id]);
    expect(await t.app.services.outbox.get(row.id)).toMatchObject({ status: 'sent', attempts: 2 });
  });

  test('C6 a live worker keeps its mail however long the server takes; a dead one’s is taken over within 30 seconds', async () => {
    const to = `${unique('slow')}@example.com`;
    const row = await enqueue(mail(to));
    // A server that takes its time: the first worker's send hangs until released.
    let release: () => void = () => undefined;
    let sending: () => void = () => undefined;
    const started = new Promise<void>((resolve) => { sending = resolve; });
    const hanging: MailTransport = { send: () => new Promise<void>((resolve) => { release = resolve; sending(); }), close: () => undefined };
    const slow = new OutboxWorker(t.app.deps, hanging, silent);
    const round = slow.runOnce();
    await started;
    // Alive, it renews its lease: another worker leaves the mail alone, however long it takes.
    for (let i = 0; i < 4; i++) {
      t.clock.advance(20_000);
      await slow.renew();
      expect((await worker().runOnce()).sent).toBe(0);
    }
    release();
    expect((await round).sent).toBe(1);
    expect(messagesTo(to)).toHaveLength(0);
    expect(await t.app.services.outbox.get(row.id)).toMatchObject({ status: 'sent', attempts: 1 });

    // Dead (no renewal): its mail goes to the next worker within 30 seconds, with the same Message-ID.
    const orphan = await enqueue(mail(`${unique('orphan')}@example.com`));
    let claimed: () => void = () => undefined;
    const deadStarted = new Promise<void>((resolve) => { claimed = resolve; });
    const dead = new OutboxWorker(t.app.deps, { send: () => { claimed(); return new Promise<void>(() => undefined); }, close: () => undefined }, silent);
    void dead.runOnce();
    await deadStarted;
    t.clock.advance(30_000);
    expect((await worker().runOnce()).sent).toBe(1);
    expect(sink.received.filter((r) => r.parsed.messageId === orphan.message_id)).toHaveLength(1);
  });

  test('C6 /metrics shows the queue’s depth', async () => {
    for (let i = 0; i < 3; i++) await enqueue(mail(`${unique('depth')}@example.com`));
    const metrics = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/^portico_outbox_messages\{status="queued"\} 3$/m);
    expect(metrics.body).toMatch(/^portico_outbox_messages\{status="failed"\} \d+$/m);
  });

  test('C6 a bad recipient is refused before anything is written', async () => {
    for (const address of ['no-at-sign', 'a@b', 'x@y.z\r\nBcc: q@r.s', '"quoted"@example.com', `${'a'.repeat(250)}@example.com`]) {
      await expect(enqueue(mail(address))).rejects.toMatchObject({ status: 400 });
    }
  });
});

describe('outbox rules', () => {
  test('C6 waits grow from 30 s to an hour, stretched by at most a tenth', () => {
    expect([1, 2, 3, 4, 8, 20].map((n) => backoffMs(n, () => 0))).toEqual([30_000, 60_000, 120_000, 240_000, 3_600_000, 3_600_000]);
    expect(backoffMs(1, () => 0.999)).toBeLessThanOrEqual(33_000);
  });

  test('C6 only the server refusing the message is permanent; a failed sign-in or connection is not', () => {
    expect(isPermanent({ permanent: true, responseCode: 550, command: 'RCPT TO' })).toBe(true);
    expect(isPermanent({ permanent: false, responseCode: 451, command: 'RCPT TO' })).toBe(false);
    expect(isPermanent({ permanent: true, responseCode: 535, command: 'AUTH PLAIN', code: 'EAUTH' })).toBe(false);
    expect(isPermanent({ code: 'ECONNECTION' })).toBe(false);
    expect(isPermanent(null)).toBe(false);
    expect(isPermanent('boom')).toBe(false);
  });
});
