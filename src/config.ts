import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';

/** A configuration value that is present but unusable. Stops the process with a clear message. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly expected: string,
    readonly got: string | undefined,
  ) {
    super(`${variable} must be ${expected}${got === undefined ? '' : ` (got ${JSON.stringify(got)})`}`);
    this.name = 'ConfigError';
  }
}

export type DatabaseConfig =
  | { dialect: 'sqlite'; file: string }
  | { dialect: 'postgres'; url: string; poolSize: number };

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  database: DatabaseConfig;
  /** The staff app's public origin, e.g. https://help.example.com. Decides secure cookies. */
  publicAppUrl: URL;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Secret for signing (cursors are not signed; signed links and reply tokens are). */
  sessionSecret: string;
  /** Key material that seals stored secrets (SSO shared secrets and client secrets): security/sealed.ts. */
  secretsKey: string;
  trustProxy: boolean;
  staffSession: { idleMinutes: number; absoluteHours: number };
  /** Largest accepted JSON body in bytes. */
  bodyLimit: number;
  /** Largest accepted attachment in bytes. */
  attachmentLimit: number;
  /** Answer 503 instead of queueing when the event loop lags this much (ms); 0 turns it off. */
  maxEventLoopDelayMs: number;
  /** Answer 503 when this many requests are being worked on already; 0 turns it off. */
  maxConcurrentRequests: number;
  /** How long a request past maxConcurrentRequests waits for a place before its 503. */
  maxQueueWaitMs: number;
  /** Outgoing mail: the SMTP server, or null to keep mail in the outbox (the development mailbox). */
  smtp: SmtpConfig | null;
  /** The sender of every email. */
  mailFrom: { address: string; name: string | null };
  /** The built-in SMTP listener for incoming mail, or null when it is off. */
  smtpListen: { host: string; port: number } | null;
  /** When set, /metrics answers only a request bearing this token. */
  metricsToken: string | null;
  /** How many days the portals' sign-in logs keep their entries. */
  signInLogDays: number;
  /**
   * Requests to addresses admins configure (identity providers' discovery, keys, tokens):
   * `allowPrivate` lets them reach loopback and private networks (development and tests only).
   */
  outbound: { allowPrivate: boolean };
}

export interface SmtpConfig {
  host: string;
  port: number;
  /** smtps: TLS from the first byte; smtp: STARTTLS when the server offers it (required with requireTls). */
  secure: boolean;
  requireTls: boolean;
  user: string | null;
  password: string | null;
}

/** SMTP_URL: smtp://user:password@host:587 or smtps://host:465; ?requireTLS=true insists on STARTTLS. */
function parseSmtp(env: Env): SmtpConfig | null {
  const raw = env.SMTP_URL;
  if (raw === undefined || raw === '') return null;
  const expected = 'an smtp://[user:password@]host[:port] or smtps:// URL';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('SMTP_URL', expected, undefined);
  }
  // Never echo the URL: it may hold a password.
  if ((url.protocol !== 'smtp:' && url.protocol !== 'smtps:') || url.hostname === '') throw new ConfigError('SMTP_URL', expected, undefined);
  const secure = url.protocol === 'smtps:';
  const requireTls = url.searchParams.get('requireTLS');
  if (requireTls !== null && requireTls !== 'true' && requireTls !== 'false') throw new ConfigError('SMTP_URL', `${expected} whose requireTLS is true or false`, undefined);
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port === '' ? (secure ? 465 : 587) : Number(url.port),
    secure,
    requireTls: requireTls === 'true',
    user: url.username === '' ? null : decodeURIComponent(url.username),
    password: url.password === '' ? null : decodeURIComponent(url.password),
  };
}

/** MAIL_FROM: "Support <support@example.com>" or a bare address; defaults to no-reply at the app's host. */
function parseMailFrom(env: Env, publicAppUrl: URL): Config['mailFrom'] {
  const raw = env.MAIL_FROM;
  if (raw === undefined || raw === '') return { address: `no-reply@${publicAppUrl.hostname}`, name: 'Portico' };
  const match = /^\s*(?:"?([^"<>\r\n]*?)"?\s*<([^<>\s]+@[^<>\s]+)>|([^<>\s]+@[^<>\s]+))\s*$/.exec(raw);
  if (match === null) throw new ConfigError('MAIL_FROM', 'an address, or a name and <address>', raw);
  const address = match[2] ?? match[3] ?? '';
  const name = match[1]?.trim() ?? '';
  return { address, name: name === '' ? null : name };
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `a whole number from ${min} to ${max}`, raw);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `a whole number from ${min} to ${max}`, raw);
  return value;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())) return true;
  if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false;
  throw new ConfigError(name, 'true or false', raw);
}

function parseDatabase(env: Env, dataDir: string): DatabaseConfig {
  const raw = env.DATABASE_URL;
  const poolSize = integer(env, 'DATABASE_POOL_SIZE', 10, 1, 500);
  if (raw === undefined || raw === '') return { dialect: 'sqlite', file: join(dataDir, 'portico.sqlite') };
  if (raw.startsWith('postgres://') || raw.startsWith('postgresql://')) {
    try {
      new URL(raw);
    } catch {
      throw new ConfigError('DATABASE_URL', 'a postgres://user@host:port/database URL or sqlite:path', '(unparseable URL)');
    }
    return { dialect: 'postgres', url: raw, poolSize };
  }
  if (raw.startsWith('sqlite:')) {
    const file = raw.slice('sqlite:'.length).replace(/^\/\//, '');
    if (file === '') throw new ConfigError('DATABASE_URL', 'sqlite:path/to/file.sqlite with a file name', raw);
    return { dialect: 'sqlite', file: isAbsolute(file) ? file : resolve(file) };
  }
  // Never echo the URL back: it may hold a password.
  throw new ConfigError('DATABASE_URL', 'a postgres:// URL or sqlite:path', undefined);
}

/**
 * Reads a secret from the environment, or creates one under DATA_DIR on first start and keeps
 * it there (SESSION_SECRET in session-secret, SECRETS_KEY in secrets-key). Several processes
 * must share it: set it in the environment past one machine.
 */
function keptSecret(env: Env, dataDir: string, variable: 'SESSION_SECRET' | 'SECRETS_KEY', fileName: string): string {
  const raw = env[variable];
  if (raw !== undefined && raw !== '') {
    if (raw.length < 32) throw new ConfigError(variable, 'at least 32 characters', undefined);
    return raw;
  }
  const file = join(dataDir, fileName);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, secret + '\n', { mode: 0o600, flag: 'wx' });
  return secret;
}

/** METRICS_TOKEN: a secret of at least 16 characters that Prometheus sends as a bearer token. */
function metricsToken(env: Env): string | null {
  const raw = env.METRICS_TOKEN;
  if (raw === undefined || raw === '') return null;
  if (raw.length < 16 || /\s/.test(raw)) throw new ConfigError('METRICS_TOKEN', 'at least 16 characters without spaces', undefined);
  return raw;
}

/**
 * How many requests are worked on at once by default: on PostgreSQL three per pooled connection
 * (more only queue at the pool, where a request waits again for each of its queries); on SQLite,
 * where a request runs to its end without yielding, a generous 64.
 */
function defaultConcurrency(database: DatabaseConfig): number {
  return database.dialect === 'postgres' ? database.poolSize * 3 : 64;
}

export function loadConfig(env: Env = process.env): Config {
  const port = integer(env, 'PORT', 3000, 0, 65535);
  const host = env.HOST === undefined || env.HOST === '' ? '127.0.0.1' : env.HOST;
  const dataDir = resolve(env.DATA_DIR === undefined || env.DATA_DIR === '' ? './data' : env.DATA_DIR);
  const logLevel = (env.LOG_LEVEL ?? 'info') as Config['logLevel'];
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError('LOG_LEVEL', `one of ${LOG_LEVELS.join(', ')}`, env.LOG_LEVEL);

  let publicAppUrl: URL;
  const rawUrl = env.PUBLIC_APP_URL;
  try {
    publicAppUrl = new URL(rawUrl === undefined || rawUrl === '' ? `http://localhost:${port}` : rawUrl);
  } catch {
    throw new ConfigError('PUBLIC_APP_URL', 'an absolute http:// or https:// URL', rawUrl);
  }
  if (publicAppUrl.protocol !== 'http:' && publicAppUrl.protocol !== 'https:') {
    throw new ConfigError('PUBLIC_APP_URL', 'an absolute http:// or https:// URL', rawUrl);
  }

  const storage = env.STORAGE_URL;
  if (storage !== undefined && storage !== '' && !storage.startsWith('file:')) {
    throw new ConfigError('STORAGE_URL', 'file:/path (S3 storage is not available yet)', storage);
  }

  const database = parseDatabase(env, dataDir);
  return {
    port,
    host,
    dataDir,
    database,
    publicAppUrl,
    logLevel,
    sessionSecret: keptSecret(env, dataDir, 'SESSION_SECRET', 'session-secret'),
    secretsKey: keptSecret(env, dataDir, 'SECRETS_KEY', 'secrets-key'),
    trustProxy: boolean(env, 'TRUST_PROXY', false),
    staffSession: {
      idleMinutes: integer(env, 'STAFF_SESSION_IDLE_MINUTES', 480, 5, 60 * 24 * 30),
      absoluteHours: integer(env, 'STAFF_SESSION_ABSOLUTE_HOURS', 24 * 7, 1, 24 * 90),
    },
    bodyLimit: integer(env, 'BODY_LIMIT_BYTES', 1024 * 1024, 1024, 100 * 1024 * 1024),
    attachmentLimit: integer(env, 'ATTACHMENT_LIMIT_BYTES', 25 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    maxEventLoopDelayMs: integer(env, 'MAX_EVENT_LOOP_DELAY_MS', 300, 0, 60_000),
    maxConcurrentRequests: integer(env, 'MAX_CONCURRENT_REQUESTS', defaultConcurrency(database), 0, 100_000),
    maxQueueWaitMs: integer(env, 'MAX_QUEUE_WAIT_MS', 250, 0, 10_000),
    smtp: parseSmtp(env),
    mailFrom: parseMailFrom(env, publicAppUrl),
    metricsToken: metricsToken(env),
    signInLogDays: integer(env, 'SIGN_IN_LOG_DAYS', 90, 1, 3650),
    smtpListen: env.SMTP_LISTEN_PORT === undefined || env.SMTP_LISTEN_PORT === ''
      ? null
      : { host: env.SMTP_LISTEN_HOST === undefined || env.SMTP_LISTEN_HOST === '' ? host : env.SMTP_LISTEN_HOST, port: integer(env, 'SMTP_LISTEN_PORT', 2525, 1, 65535) },
    outbound: { allowPrivate: boolean(env, 'OUTBOUND_ALLOW_PRIVATE', false) },
  };
}
