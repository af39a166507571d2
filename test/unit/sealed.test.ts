import { describe, expect, test } from 'vitest';
import { loggableUrl } from '../../src/http/log-url.js';
import { SealError, SecretBox } from '../../src/security/sealed.js';

describe('sealed secrets', () => {
  const box = new SecretBox('a-key-from-configuration-0123456789abcdef');

  test('P12 a sealed secret opens with its key and record only; changed, moved or foreign values are refused', () => {
    const sealed = box.seal('client-secret', 'sso_provider:1');
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]{8}\./);
    expect(sealed).not.toContain('client-secret');
    expect(box.open(sealed, 'sso_provider:1')).toBe('client-secret');
    // The same plaintext seals differently each time (a fresh IV).
    expect(box.seal('client-secret', 'sso_provider:1')).not.toBe(sealed);
    expect(() => box.open(sealed, 'sso_provider:2')).toThrow(SealError);
    const parts = sealed.split('.');
    const body = Buffer.from(parts[3] ?? '', 'base64url');
    body[0] = (body[0] ?? 0) ^ 1;
    expect(() => box.open([...parts.slice(0, 3), body.toString('base64url')].join('.'), 'sso_provider:1')).toThrow(/changed/);
    expect(() => new SecretBox('another-key-from-configuration-0123456789').open(sealed, 'sso_provider:1')).toThrow(/another key/);
    expect(() => box.open('plain text', 'sso_provider:1')).toThrow(/not a sealed value/);
  });

  test('P12 C9 log lines carry no tokens or credentials in addresses', () => {
    expect(loggableUrl('/tickets/sso/3/jwt?jwt=eyJhbGciOi.x.y&return_to=%2Ftickets')).toBe('/tickets/sso/3/jwt?jwt=[redacted]&return_to=%2Ftickets');
    expect(loggableUrl('/tickets/sso/3/oidc/callback?code=abc&state=def&iss=https%3A%2F%2Fid.example')).toBe('/tickets/sso/3/oidc/callback?code=[redacted]&state=[redacted]&iss=https%3A%2F%2Fid.example');
    expect(loggableUrl('/tickets/magic-link/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcd')).toBe('/tickets/magic-link/[redacted]');
    expect(loggableUrl('/idp?SAMLRequest=xyz&RelayState=r')).toBe('/idp?SAMLRequest=[redacted]&RelayState=[redacted]');
    expect(loggableUrl('/tickets/42?status=open')).toBe('/tickets/42?status=open');
  });
});
