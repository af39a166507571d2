import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import { Type } from 'typebox';
import type { App } from '../../http/types.js';

/**
 * The staff app's policy: its own scripts only, Mantine's runtime style tags and style props
 * (inline styles, never inline scripts), API calls to this origin, and pictures from anywhere a
 * portal's branding points (https) or the app itself. No frame may hold the app.
 */
export const STAFF_APP_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: https:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "frame-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The built app (`npm run build:web`): beside src/ in a checkout (dist/web), or under dist/ when built. */
export function webRoot(): string | null {
  for (const up of ['../../..', '../../../..']) {
    const dir = join(import.meta.dirname, up, 'dist', 'web');
    if (existsSync(join(dir, 'index.html'))) return dir;
  }
  return null;
}

const NOT_BUILT = `<!doctype html><html lang="en"><meta charset="utf-8"><title>Portico</title>
<body style="font-family:sans-serif;max-width:40em;margin:4em auto"><h1>The staff app is not built</h1>
<p>Run <code>npm run build</code> (or <code>npm start</code>, which builds first) and reload this page.
The JSON API answers at <code>/api/v1</code>.</p></body></html>`;

/**
 * The staff single-page app at /app: hashed assets cached for a year, every other path under
 * /app answered with index.html (the router in the browser takes it from there), never cached.
 * Public like any static page: what the app shows comes from the API, which checks the session.
 */
export async function webRoutes(app: App, { portalCss }: { portalCss: string }): Promise<void> {
  const root = webRoot();
  const index = root === null ? null : readFileSync(join(root, 'index.html'), 'utf8');
  if (root !== null) await app.register(fastifyStatic, { root, serve: false, decorateReply: true });

  const shell = (_request: unknown, reply: import('fastify').FastifyReply) =>
    reply
      .code(index === null ? 503 : 200)
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('content-security-policy', STAFF_APP_CSP)
      .send(index ?? NOT_BUILT);

  const hidden = { hide: true };
  app.get('/app', { config: { access: 'public' }, schema: hidden }, shell);
  app.get('/app/*', { config: { access: 'public' }, schema: hidden }, shell);

  // The portal theme's style sheet, for template previews in the app (they show on this host).
  app.get('/app/portal.css', { config: { access: 'public' }, schema: hidden }, (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=300').send(portalCss));

  app.get('/app/assets/:file', {
    config: { access: 'public' },
    schema: { hide: true, params: Type.Object({ file: Type.String({ maxLength: 200, pattern: '^[A-Za-z0-9_.-]+$', 'x-hint': 'Use letters, digits, dots, hyphens and underscores only.' }) }) },
  }, (request, reply) => {
    if (root === null || request.params.file.startsWith('.')) {
      reply.callNotFound();
      return reply;
    }
    return reply
      .header('content-security-policy', STAFF_APP_CSP)
      .sendFile(request.params.file, join(root, 'assets'), { immutable: true, maxAge: '365d', dotfiles: 'deny' });
  });
}
