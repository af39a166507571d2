import type { Config } from '../config.js';
import type { App } from './types.js';

/**
 * A portal page's CSP: its stylesheets and the theme's one script (portal.js) from this origin,
 * images from it or https; no inline code runs, and the script fetches only from this origin.
 */
export const PORTAL_PAGE_CSP = "default-src 'none'; style-src 'self'; img-src 'self' https:; script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/**
 * The security headers every answer carries, computed once. They are what @fastify/helmet sets
 * by default, with a CSP for a JSON API; helmet itself built them on every request, which the
 * benchmark measured at about a third of the cost of a small request. Routes that serve
 * something else (attachment downloads) set their own CSP on top.
 */
export function securityHeaders(config: Config): Record<string, string> {
  const headers: Record<string, string> = {
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'origin-agent-cluster': '?1',
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'x-dns-prefetch-control': 'off',
    'x-download-options': 'noopen',
    'x-frame-options': 'DENY',
    'x-permitted-cross-domain-policies': 'none',
    'x-xss-protection': '0',
  };
  if (config.publicAppUrl.protocol === 'https:') headers['strict-transport-security'] = 'max-age=31536000; includeSubDomains';
  return headers;
}

export function registerSecurityHeaders(app: App, config: Config): void {
  const headers = securityHeaders(config);
  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(headers);
    reply.header('x-request-id', request.id);
    // Staff API answers hold customers' data: no browser or proxy keeps them.
    if (request.url.startsWith('/api/v1/')) reply.header('cache-control', 'no-store');
    done();
  });
}
