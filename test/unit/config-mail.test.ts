import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const load = (env: Record<string, string>) => loadConfig({ DATA_DIR: mkdtempSync(join(tmpdir(), 'portico-cfg-')), SESSION_SECRET: 'x'.repeat(40), ...env });

describe('mail configuration', () => {
  test('C6 SMTP_URL: smtp with STARTTLS when offered, smtps, credentials decoded, requireTLS; unset keeps mail in the outbox', () => {
    expect(load({}).smtp).toBeNull();
    expect(load({ SMTP_URL: 'smtp://mail.example.com' }).smtp).toEqual({ host: 'mail.example.com', port: 587, secure: false, requireTls: false, user: null, password: null });
    expect(load({ SMTP_URL: 'smtps://ap%40p:p%3Ass@mail.example.com' }).smtp).toEqual({ host: 'mail.example.com', port: 465, secure: true, requireTls: false, user: 'ap@p', password: 'p:ss' });
    expect(load({ SMTP_URL: 'smtp://127.0.0.1:2525?requireTLS=true' }).smtp).toMatchObject({ host: '127.0.0.1', port: 2525, requireTls: true });
    expect(load({ SMTP_URL: 'smtp://[::1]:25' }).smtp).toMatchObject({ host: '::1', port: 25 });
  });

  test('C6 a bad SMTP_URL or MAIL_FROM stops the start with the variable named, never the password', () => {
    for (const bad of ['mail.example.com', 'http://u:hunter2@mail.example.com', 'smtp://', 'smtp://u:hunter2@h?requireTLS=maybe', 'smtp://h:99999']) {
      let error: unknown;
      try {
        load({ SMTP_URL: bad });
      } catch (e) {
        error = e;
      }
      expect(error, bad).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).variable).toBe('SMTP_URL');
      expect((error as Error).message).not.toContain('hunter2');
    }
    for (const bad of ['support', 'a <b>', 'x@y.z\r\nBcc: q@r.s', 'Name <a@b.c> trailing']) expect(() => load({ MAIL_FROM: bad }), bad).toThrow(/^MAIL_FROM must be/);
  });

  test('C6 MAIL_FROM: an address, or a name and an address; by default no-reply at the app’s host', () => {
    expect(load({}).mailFrom).toEqual({ address: 'no-reply@localhost', name: 'Portico' });
    expect(load({ PUBLIC_APP_URL: 'https://help.acme.example' }).mailFrom.address).toBe('no-reply@help.acme.example');
    expect(load({ MAIL_FROM: 'support@acme.example' }).mailFrom).toEqual({ address: 'support@acme.example', name: null });
    expect(load({ MAIL_FROM: '"Acme, Inc. Support" <support@acme.example>' }).mailFrom).toEqual({ address: 'support@acme.example', name: 'Acme, Inc. Support' });
  });
});
