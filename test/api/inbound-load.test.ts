import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import nodemailer from 'nodemailer';
import { rawMail, startMailIn, type MailIn } from '../helpers/mail-in.js';
import { createTestApp, dialects, type TestApp } from '../helpers/test-app.js';

// C6: a load of 1,000 mails over SMTP, several connections at once, some delivered twice: every
// one becomes a thread exactly once. (The rate is measured by `npm run bench`, bench/mail-in.ts.)

describe.each(dialects)('incoming mail under load on %s', (dialect) => {
  let t: TestApp;
  let mail: MailIn;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    mail = await startMailIn(t);
  });
  afterAll(async () => {
    await mail.listener.stop();
    await t.close();
  });

  test('C6 1,000 mails over four connections, 50 of them sent twice, become 1,000 threads exactly once', async () => {
    const pooled = nodemailer.createTransport({ host: '127.0.0.1', port: mail.port, secure: false, ignoreTLS: true, pool: true, maxConnections: 4, maxMessages: Infinity });
    const run = `${process.pid}-${Date.now()}`;
    const raw = (i: number) => rawMail({ From: `load${i % 97}@customer.example`, To: mail.address, Subject: `Load ${i}`, 'Message-ID': `<load-${run}-${i}@customer.example>` }, `Message number ${i}`);
    const sends = Array.from({ length: 1000 }, (_, i) => pooled.sendMail({ envelope: { from: 'load@customer.example', to: [mail.address] }, raw: raw(i) }));
    // Fifty delivered a second time, while the first copies are still arriving.
    for (let i = 0; i < 1000; i += 20) sends.push(pooled.sendMail({ envelope: { from: 'load@customer.example', to: [mail.address] }, raw: raw(i) }));
    const answers = await Promise.all(sends);
    pooled.close();
    expect(answers.every((a) => a.response.startsWith('250'))).toBe(true);
    await mail.listener.idle();
    const rows = await t.app.deps.db.selectFrom('inbound_mail').select(['status', 'thread_id']).where('message_id', 'like', `<load-${run}-%`).execute();
    expect(rows).toHaveLength(1000);
    expect(rows.filter((r) => r.status === 'processed')).toHaveLength(1000);
    expect(new Set(rows.map((r) => r.thread_id)).size).toBe(1000);
    const threads = await t.app.deps.db.selectFrom('threads').select((eb) => eb.fn.countAll<number>().as('n')).where('channel_id', '=', mail.channelId).where('subject', 'like', 'Load %').executeTakeFirstOrThrow();
    expect(threads.n).toBe(1000);
  }, 180_000);
});
