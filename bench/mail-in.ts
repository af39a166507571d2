import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { SmtpListener } from '../src/modules/mail/smtp-listener.js';

/**
 * `npm run bench:mail` (and the end of `npm run bench`): 1,000 mails over SMTP, four connections,
 * to Portico's listener on a fresh SQLite file, until every one is a thread; against the same
 * 1,000 mails to a bare smtp-server that only reads them, in the same run (the baseline).
 * Exits non-zero unless every mail became exactly one thread.
 */

const MAILS = Number(process.env.BENCH_MAILS ?? 1000);
const CONNECTIONS = 4;
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

function raw(run: string, i: number): string {
  return [`From: Load ${i % 97} <load${i % 97}@customer.example>`, 'To: support@acme.example', `Subject: Load ${i}`, `Message-ID: <bench-${run}-${i}@customer.example>`, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '', `Message number ${i}. ${'Lorem ipsum dolor sit amet. '.repeat(20)}`].join('\r\n');
}

async function deliver(port: number, run: string): Promise<number> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, pool: true, maxConnections: CONNECTIONS, maxMessages: Infinity });
  const started = performance.now();
  await Promise.all(Array.from({ length: MAILS }, (_, i) => transport.sendMail({ envelope: { from: 'load@customer.example', to: ['support@acme.example'] }, raw: raw(run, i) })));
  const elapsed = performance.now() - started;
  transport.close();
  return elapsed;
}

async function baseline(): Promise<number> {
  const server = new SMTPServer({
    disabledCommands: ['AUTH', 'STARTTLS'], authOptional: true, logger: false,
    onData(stream, _session, callback) {
      stream.on('data', () => undefined);
      stream.on('end', () => {
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const elapsed = await deliver((server.server.address() as AddressInfo).port, 'baseline');
  await new Promise<void>((resolve) => { server.close(() => { resolve(); }); });
  return elapsed;
}

async function portico(): Promise<{ accepted: number; threaded: number; threads: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'portico-bench-mail-'));
  const config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent', MAX_EVENT_LOOP_DELAY_MS: '0' });
  const database = openDatabase(config.database);
  await migrateToLatest(database.db);
  // DNS that knows no name, answering at once: the benchmark measures intake, not the network.
  const dns = (name: string) => Promise.reject(Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: 'ENOTFOUND' }));
  const app = await buildApp({ config, database, dns });
  await app.ready();
  const s = app.services;
  const { inbox } = await s.inboxes.create('Support');
  await s.inboxes.addChannel(inbox.id, { type: 'email', name: 'Support', address: 'support@acme.example' });
  await s.pipelines.create({ name: 'Support', stages: [{ name: 'New', state: 'open' }, { name: 'Done', state: 'closed' }] });
  const listener = new SmtpListener(s.inbound, quiet);
  const port = await listener.start(0, '127.0.0.1');
  const started = performance.now();
  const accepted = await deliver(port, 'portico');
  await listener.idle();
  const threaded = performance.now() - started;
  const row = await app.deps.db.selectFrom('threads').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  await listener.stop();
  await app.close();
  rmSync(dir, { recursive: true, force: true });
  return { accepted, threaded, threads: row.n };
}

const base = await baseline();
const result = await portico();
const rate = (msValue: number) => Math.round((MAILS / msValue) * 1000);
console.log(`\n== Incoming mail over SMTP: ${MAILS} mails, ${CONNECTIONS} connections, SQLite ==`);
console.log(`bare smtp-server (reads and drops):      ${rate(base)} mails/s`);
console.log(`Portico, accepted (kept raw, 250):       ${rate(result.accepted)} mails/s`);
console.log(`Portico, all threaded (contact, ticket): ${rate(result.threaded)} mails/s (${Math.round((base / result.threaded) * 100)}% of the bare server's rate)`);
console.log(`threads created: ${result.threads} of ${MAILS}`);
if (result.threads !== MAILS) {
  console.error('FAIL: not every mail became exactly one thread');
  process.exitCode = 1;
}
