import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { openDatabase, type Database } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import { isDemoSeeded, seedDemo, DEMO_PASSWORD, DEMO_PORTAL_HOST } from './demo/seed.js';
import { systemClock } from './clock.js';
import { buildServices } from './services.js';
import { generatePassword, randomToken } from './security/secrets.js';

import { OutboxWorker, smtpTransport } from './modules/mail/outbox-worker.js';
import { InboundWorker } from './modules/mail/inbound-worker.js';
import { SmtpListener } from './modules/mail/smtp-listener.js';
import { loadMailAuth } from './modules/mail/sender-checks.js';
import { purgeTokens } from './modules/members/one-time-tokens.js';
import { systemResolver } from './util/dns.js';
const USAGE = `Usage: portico <command>

Commands:
  start [--demo]                 migrate, then serve (--demo: seed demo data into an empty database)
  migrate                        apply pending database migrations
  demo                           seed the demo data (once)
  admin create --email E [--name N]
                                 create an admin; the password is read from stdin, or generated and printed once
  token create --email E [--name N]
                                 create an API token for a staff user and print it once
  openapi [--out FILE]           write the OpenAPI document (the staff app's client types come from it)

Configuration comes from the environment; see README.md.`;

function fail(message: string, code = 1): never {
  process.stderr.write(`portico: ${message}\n`);
  process.exit(code);
}

async function withDatabase<T>(config: Config, run: (database: Database) => Promise<T>): Promise<T> {
  const database = openDatabase(config.database);
  try {
    await migrateToLatest(database.db);
    return await run(database);
  } finally {
    await database.close();
  }
}

function readStdin(): string | undefined {
  if (process.stdin.isTTY) return undefined;
  try {
    const text = readFileSync(0, 'utf8').replace(/\r?\n$/, '');
    return text === '' ? undefined : text;
  } catch {
    return undefined;
  }
}

async function start(config: Config, demo: boolean): Promise<void> {
  const database = openDatabase(config.database);
  const applied = await migrateToLatest(database.db);
  let seeded = false;
  if (demo && !(await isDemoSeeded(database.db))) {
    await seedDemo({ db: database.db, dialect: database.dialect, clock: systemClock, config, dns: systemResolver() });
    seeded = true;
  }
  const app = await buildApp({ config, database, defaultMetrics: true });
  if (applied.length > 0) app.log.info({ applied }, 'migrations applied');
  const purge = setInterval(() => {
    Promise.all([
      app.services.staffAuth.purgeExpiredSessions(),
      app.services.memberAuth.purgeExpiredSessions(),
      app.services.sso.purgeExpired(),
      purgeTokens(app.deps.db, app.deps.clock.now()),
      app.services.memberAuth.log.purge(app.deps.config.signInLogDays),
    ]).catch((err: unknown) => {
      app.log.warn({ err }, 'session purge failed');
    });
  }, 10 * 60 * 1000);
  purge.unref();
  // Files a crash or a refused upload left behind: at start, then every six hours.
  const sweepFiles = () => {
    app.services.conversations.sweepOrphanFiles().then((removed) => {
      if (removed > 0) app.log.info({ removed }, 'orphaned files removed');
    }, (err: unknown) => {
      app.log.warn({ err }, 'file sweep failed');
    });
  };
  const sweep = setInterval(sweepFiles, 6 * 60 * 60 * 1000);
  sweep.unref();
  // Outgoing mail: sent by this process when SMTP is configured; kept in the outbox otherwise.
  const mailer = config.smtp === null ? undefined : new OutboxWorker(app.deps, smtpTransport(config.smtp), app.log);
  const purgeMail = setInterval(() => {
    app.services.outbox.purgeSent(30).catch((err: unknown) => {
      app.log.warn({ err }, 'outbox purge failed');
    });
  }, 24 * 60 * 60 * 1000);
  purgeMail.unref();
  // Incoming mail: the SMTP listener when SMTP_LISTEN_PORT is set; IMAP mailboxes and retries always.
  const listener = config.smtpListen === null ? undefined : new SmtpListener(app.services.inbound, app.log);
  const inboundWorker = new InboundWorker(app.deps, app.services.inbound, app.services.inboxes, app.log);
  app.addHook('onClose', async () => {
    clearInterval(purge);
    clearInterval(sweep);
    clearInterval(purgeMail);
    await listener?.stop();
    await inboundWorker.stop();
    await mailer?.stop();
  });

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => {
    shutdown('SIGINT');
  });
  process.on('SIGTERM', () => {
    shutdown('SIGTERM');
  });

  await app.ready();
  // Incoming mail is checked from the first mail on: its checker is loaded now, not then.
  await loadMailAuth();
  await app.listen({ port: config.port, host: config.host });
  sweepFiles();
  if (mailer === undefined) {
    app.log.info('SMTP_URL is not set: outgoing mail stays in the outbox (GET /api/v1/outbox)');
  } else {
    mailer.start();
    app.log.info({ smtp: `${config.smtp?.host ?? ''}:${config.smtp?.port ?? ''}` }, 'sending outgoing mail');
  }
  inboundWorker.start();
  if (listener !== undefined && config.smtpListen !== null) {
    const port = await listener.start(config.smtpListen.port, config.smtpListen.host);
    app.log.info({ port }, 'receiving mail over SMTP for the connected addresses');
  }
  const base = `http://localhost:${config.port}`;
  if (seeded) {
    app.log.info(`demo data seeded: sign in at ${base}/app/ as admin@example.com or agent@example.com, password "${DEMO_PASSWORD}"`);
    app.log.info(`demo portal: http://${DEMO_PORTAL_HOST}:${config.port}/tickets, sign in as hank@globex.example with the same password`);
  }
  app.log.info(`Portico is serving ${base}: the staff app at ${base}/app/, the API under ${base}/api/v1, OpenAPI at ${base}/api/openapi.json`);
}

/** The OpenAPI document of this build, from an app on a throwaway database (nothing else is touched). */
async function writeOpenApi(out: string | undefined): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'portico-openapi-'));
  try {
    const config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent', SESSION_SECRET: randomToken(32), SECRETS_KEY: randomToken(32) });
    const database = openDatabase(config.database);
    const app = await buildApp({ config, database });
    await app.ready();
    const text = JSON.stringify(app.swagger(), null, 2) + '\n';
    await app.close();
    await database.close();
    if (out === undefined) process.stdout.write(text);
    else writeFileSync(out, text);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      email: { type: 'string' },
      name: { type: 'string' },
      demo: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      out: { type: 'string' },
    },
  });
  const [command, sub] = positionals;
  if (values.help || command === undefined) {
    process.stdout.write(USAGE + '\n');
    if (command === undefined && !values.help) process.exit(2);
    return;
  }
  if (command === 'openapi') {
    await writeOpenApi(values.out);
    return;
  }
  const config = loadConfig();

  switch (command) {
    case 'start':
      await start(config, values.demo);
      return;
    case 'migrate': {
      const database = openDatabase(config.database);
      try {
        const applied = await migrateToLatest(database.db);
        process.stdout.write(applied.length === 0 ? 'database is up to date\n' : `applied: ${applied.join(', ')}\n`);
      } finally {
        await database.close();
      }
      return;
    }
    case 'demo':
      await withDatabase(config, async (database) => {
        if (await isDemoSeeded(database.db)) {
          process.stdout.write('demo data is already there\n');
          return;
        }
        await seedDemo({ db: database.db, dialect: database.dialect, clock: systemClock, config, dns: systemResolver() });
        process.stdout.write(`demo data seeded; staff sign in as admin@example.com or agent@example.com with "${DEMO_PASSWORD}"\n`);
      });
      return;
    case 'admin':
    case 'token': {
      if (sub !== 'create') fail(`unknown command "${command} ${sub ?? ''}"\n\n${USAGE}`, 2);
      const email = values.email;
      if (email === undefined || !/^[^\s@]+@[^\s@]+$/.test(email)) fail('--email must be an email address', 2);
      await withDatabase(config, async (database) => {
        const services = buildServices({ db: database.db, dialect: database.dialect, clock: systemClock, config, dns: systemResolver() });
        if (command === 'admin') {
          const given = readStdin();
          if (given !== undefined && given.length < 12) fail('the password must be at least 12 characters', 2);
          const password = given ?? generatePassword();
          const user = await services.staff.create({ email, name: values.name ?? email.split('@')[0] ?? email, role: 'admin', password });
          process.stdout.write(`admin ${user.email} created (id ${user.id})\n`);
          if (given === undefined) process.stdout.write(`password (shown once): ${password}\n`);
        } else {
          const user = await services.staff.findByEmail(email);
          if (user === undefined) fail(`no staff user has the email ${email}`);
          const { secret } = await services.staffAuth.createApiToken(user.id, values.name ?? 'cli', null);
          process.stdout.write(`${secret}\n`);
        }
      });
      return;
    }
    default:
      fail(`unknown command "${command}"\n\n${USAGE}`, 2);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ConfigError) fail(`configuration: ${error.message}`, 78);
  const status = (error as { status?: unknown }).status;
  if (typeof status === 'number' && status < 500) fail((error as Error).message);
  process.stderr.write(`portico: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
