import { randomBytes } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';

/** The cookies a response sets, by name (values only). */
export function cookiesOf(res: LightMyRequestResponse): Record<string, string> {
  const raw = res.headers['set-cookie'];
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  return Object.fromEntries(list.map((c) => c.split(';')[0]!.split('=') as [string, string]));
}

/** The CSRF token a portal form carries. */
export function csrfOf(body: string): string {
  const match = /name="csrf" value="([^"]+)"/.exec(body);
  if (match?.[1] === undefined) throw new Error('no csrf field in page');
  return match[1];
}

interface Injector {
  inject(options: { method: 'GET' | 'POST'; url: string; headers: Record<string, string>; remoteAddress: string; payload?: string }): Promise<LightMyRequestResponse>;
}

/**
 * A form shown before sign-in, posted as a browser would: its page first (for the CSRF cookie
 * and token), then the form to `action` from the same address. `csrf` forges the token.
 */
export async function postPortalForm(app: Injector, host: string, pageUrl: string, action: string, fields: Record<string, string>, options: { ip: string; csrf?: string }): Promise<LightMyRequestResponse> {
  const page = await app.inject({ method: 'GET', url: pageUrl, headers: { host }, remoteAddress: options.ip });
  return app.inject({
    method: 'POST', url: action, remoteAddress: options.ip,
    headers: { host, cookie: `portico_form=${cookiesOf(page).portico_form ?? ''}`, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ ...fields, csrf: options.csrf ?? csrfOf(page.body) }).toString(),
  });
}

/**
 * A multipart form as a portal page posts it: text fields in order (the CSRF token first, as the
 * pages send it), then files, each under its field's name.
 */
export function multipartForm(fields: [string, string][], files: { field: string; name: string; type: string; content: Buffer }[] = []): { payload: Buffer; headers: { 'content-type': string } } {
  const boundary = `----portico-${randomBytes(8).toString('hex')}`;
  const parts: Buffer[] = [];
  for (const [name, value] of fields) parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  for (const f of files) parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${f.field}"; filename="${f.name}"\r\nContent-Type: ${f.type}\r\n\r\n`), f.content, Buffer.from('\r\n'));
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(parts), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}
