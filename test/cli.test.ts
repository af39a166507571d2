import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/database.js';

const MAIN = join(import.meta.dirname, '..', 'src', 'main.ts');
const dirs: string[] = [];

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'portico-cli-'));
  dirs.push(dir);
  return dir;
}

function portico(args: string[], env: Record<string, string>, input?: string) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent', ...env },
    input: input ?? '',
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the portico CLI', () => {
  test('C4 C9 admin create takes the password from stdin; token create prints a token that authenticates', async () => {
    const DATA_DIR = dataDir();
    const made = portico(['admin', 'create', '--email', 'Boss@Example.com', '--name', 'Boss'], { DATA_DIR }, 'a long enough password\n');
    expect(made.code, made.stderr).toBe(0);
    expect(made.stdout).toContain('admin Boss@Example.com created');
    expect(made.stdout).not.toContain('a long enough password');
    const token = portico(['token', 'create', '--email', 'boss@example.com'], { DATA_DIR });
    expect(token.code, token.stderr).toBe(0);
    const secret = token.stdout.trim();
    expect(secret).toMatch(/^ptk_[A-Za-z0-9_-]{40,}$/);

    const config = loadConfig({ DATA_DIR, LOG_LEVEL: 'silent' });
    const app = await buildApp({ config, database: openDatabase(config.database) });
    try {
      const me = await app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { authorization: `Bearer ${secret}` } });
      expect(me.statusCode).toBe(200);
      expect(me.json()).toMatchObject({ via: 'token', user: { email: 'Boss@Example.com', role: 'admin' } });
      const signIn = await app.inject({ method: 'POST', url: '/api/v1/auth/sign-in', payload: { email: 'boss@example.com', password: 'a long enough password' } });
      expect(signIn.statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });

  test('C4 admin create without stdin generates a password and prints it once; a second admin with the same email is refused', () => {
    const DATA_DIR = dataDir();
    const made = portico(['admin', 'create', '--email', 'ops@example.com'], { DATA_DIR });
    expect(made.code, made.stderr).toBe(0);
    expect(made.stdout).toMatch(/password \(shown once\): \S{20,}/);
    const again = portico(['admin', 'create', '--email', 'OPS@example.com'], { DATA_DIR }, 'another long password');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exists');
    const short = portico(['admin', 'create', '--email', 'x@example.com'], { DATA_DIR }, 'short');
    expect(short.code).toBe(2);
    expect(short.stderr).toContain('at least 12 characters');
  });

  test('C9 bad configuration stops with a message naming the variable and what it expected', () => {
    const DATA_DIR = dataDir();
    for (const [env, variable] of [
      [{ PORT: 'eighty' }, 'PORT'],
      [{ DATABASE_URL: 'mysql://root@localhost/db' }, 'DATABASE_URL'],
      [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
      [{ SESSION_SECRET: 'short' }, 'SESSION_SECRET'],
      [{ PUBLIC_APP_URL: 'ftp://example.com' }, 'PUBLIC_APP_URL'],
      [{ SMTP_URL: 'http://user:secret@mail.example.com' }, 'SMTP_URL'],
    ] as const) {
      const result = portico(['migrate'], { DATA_DIR, ...env });
      expect(result.code, JSON.stringify(env)).toBe(78);
      expect(result.stderr).toMatch(new RegExp(`^portico: configuration: ${variable} must be `));
      expect(result.stderr).not.toContain('    at ');
      expect(result.stderr).not.toContain('secret');
    }
  });

  test('C9 migrate, demo (once), unknown commands and --help', () => {
    const DATA_DIR = dataDir();
    expect(portico(['migrate'], { DATA_DIR }).stdout).toContain('applied: 2026-11-25T00-00-core');
    expect(portico(['migrate'], { DATA_DIR }).stdout).toContain('database is up to date');
    const demo = portico(['demo'], { DATA_DIR });
    expect(demo.code, demo.stderr).toBe(0);
    expect(demo.stdout).toContain('demo data seeded');
    expect(portico(['demo'], { DATA_DIR }).stdout).toContain('already there');
    const unknown = portico(['launch'], { DATA_DIR });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Usage: portico');
    expect(portico(['--help'], { DATA_DIR }).stdout).toContain('admin create --email E');
  });

  test('C9 start serves, answers readiness, and shuts down cleanly on SIGTERM', async () => {
    const DATA_DIR = dataDir();
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'start'], {
      env: { PATH: process.env.PATH ?? '', DATA_DIR, PORT: '0', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const address = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (match?.[1] !== undefined) resolve(match[1]);
      });
      child.on('exit', (code) => {
        reject(new Error(`exited ${String(code)}: ${output}`));
      });
    });
    const ready = await fetch(`${address}/readyz`);
    expect(ready.status).toBe(200);
    const exit = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
    expect(output).toContain('shutting down');
    expect(output).not.toMatch(/"level":50/);
  });
});
