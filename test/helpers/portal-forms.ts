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
