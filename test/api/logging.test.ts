import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { pino } from 'pino';
import { buildApp, LOG_REDACT } from '../../src/app.js';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import type { App } from '../../src/http/types.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe('logs', () => {
  const lines: string[] = [];
  let app: App;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portico-log-'));
    const config = loadConfig({ DATA_DIR: dir, MAX_EVENT_LOOP_DELAY_MS: '0' });
    const database = openDatabase(config.database);
    await migrateToLatest(database.db);
    const logger = pino({ level: 'trace', redact: { paths: LOG_REDACT, censor: '[redacted]' } }, { write: (line: string) => void lines.push(line) });
    app = await buildApp({ config, database, clock: new ManualClock(), logger });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('C4 C9 passwords, tokens, session cookies and CSRF tokens never reach a log line; every request line has its request id', async () => {
    const password = 'a-secret-password-for-logs';
    const user = await app.services.staff.create({ email: 'logs@example.com', name: 'Logs', role: 'admin', password });
    const { secret } = await app.services.staffAuth.createApiToken(user.id, 'logs', null);
    const signIn = await app.inject({ method: 'POST', url: '/api/v1/auth/sign-in', payload: { email: 'logs@example.com', password }, headers: { 'x-request-id': 'req-logs-0001' } });
    expect(signIn.statusCode).toBe(200);
    const cookie = String(signIn.headers['set-cookie']).split(';')[0] ?? '';
    const csrf = signIn.json<{ csrfToken: string }>().csrfToken;
    await app.inject({ method: 'POST', url: '/api/v1/auth/sign-in', payload: { email: 'logs@example.com', password: `${password}-wrong` } });
    await app.inject({ method: 'GET', url: '/api/v1/contacts', headers: { authorization: `Bearer ${secret}` } });
    await app.inject({ method: 'POST', url: '/api/v1/companies', headers: { cookie, 'x-csrf-token': csrf }, payload: { name: 'Logged Co' } });
    await app.inject({ method: 'POST', url: '/api/v1/api-tokens', headers: { authorization: `Bearer ${secret}` }, payload: { name: 'another' } });
    await app.inject({ method: 'POST', url: '/api/v1/companies', headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' }, payload: `{"name": "${password}` });

    const all = lines.join('\n');
    expect(lines.length).toBeGreaterThan(10);
    for (const leaked of [password, secret, secret.slice(4), cookie.split('=')[1] ?? 'none', csrf]) expect(all).not.toContain(leaked);
    const requestLines = lines.map((l) => JSON.parse(l) as { req?: unknown; requestId?: unknown; reqId?: unknown }).filter((l) => l.req !== undefined);
    expect(requestLines.length).toBeGreaterThan(0);
    for (const l of requestLines) expect(l.reqId ?? l.requestId).toBeTypeOf('string');
    expect(all).toContain('req-logs-0001');
  });
});
