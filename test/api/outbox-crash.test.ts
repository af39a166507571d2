import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LEASE_MS, OutboxWorker, smtpTransport } from '../../src/modules/mail/outbox-worker.js';
import { createTestApp, dialects, unique, type TestApp } from '../helpers/test-app.js';
import { kill, startServer } from '../helpers/server-process.js';
import { SmtpSink } from '../helpers/smtp-sink.js';

/**
 * C6: the real server (`portico start` with SMTP_URL) is killed after the SMTP server accepted a
 * mail and before the outbox row says so. The next worker, once the dead one's lease is over,
 * sends it again with the same Message-ID: delivered twice at worst, never lost.
 */
describe.each(dialects)('a mail worker killed mid-send on %s', (dialect) => {
  let t: TestApp;
  let sink: SmtpSink;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    sink = await new SmtpSink().start();
  });
  afterAll(async () => {
    await sink.stop();
    await t.close();
  });

  test('C6 killed after the server accepted a mail, the mail is sent again with the same Message-ID, never lost', async () => {
    const server = await startServer(t, 'outbox.accepted', { SMTP_URL: sink.url, MAIL_FROM: 'support@acme.example' });
    try {
      const to = `${unique('crash')}@example.com`;
      const row = await t.app.services.outbox.enqueue(t.app.deps.db, { kind: 'test.crash', to: { address: to }, subject: 'Your link', text: 'https://portal.example/x' });
      // The server's worker picks it up on its own, sends it, and stops dead at the failpoint.
      expect(await server.stopped).toBe('outbox.accepted');
      await kill(server);
      expect(sink.received.filter((m) => m.to.includes(to)).map((m) => m.parsed.messageId)).toEqual([row.message_id]);
      expect(await t.app.services.outbox.get(row.id)).toMatchObject({ status: 'sending', attempts: 1 });

      // A new worker, after the dead one's lease: the same mail, the same Message-ID.
      t.clock.set(Date.now() + LEASE_MS + 60_000);
      const worker = new OutboxWorker(t.app.deps, smtpTransport({ host: '127.0.0.1', port: sink.port, secure: false, requireTls: false, user: null, password: null }), { info: () => undefined, warn: () => undefined, error: () => undefined });
      try {
        expect(await worker.runOnce()).toEqual({ sent: 1, retried: 0, failed: 0 });
      } finally {
        await worker.stop();
      }
      expect(sink.received.filter((m) => m.to.includes(to)).map((m) => m.parsed.messageId)).toEqual([row.message_id, row.message_id]);
      expect(await t.app.services.outbox.get(row.id)).toMatchObject({ status: 'sent', attempts: 2 });
    } finally {
      await kill(server);
    }
  });
});
