import { expect, test } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { securityHeaders } from '../../src/http/security-headers.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const config = (url: string) => loadConfig({ DATA_DIR: mkdtempSync(join(tmpdir(), 'portico-hdr-')), PUBLIC_APP_URL: url, SESSION_SECRET: 'x'.repeat(40) });

test('C9 under HTTPS every answer asks for HTTPS from then on (HSTS); over plain HTTP it does not', () => {
  expect(securityHeaders(config('https://help.example.com'))['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
  expect(securityHeaders(config('http://localhost:3000'))['strict-transport-security']).toBeUndefined();
  const headers = securityHeaders(config('https://help.example.com'));
  expect(headers['content-security-policy']).not.toMatch(/script-src|unsafe/);
  expect(headers['x-frame-options']).toBe('DENY');
});
