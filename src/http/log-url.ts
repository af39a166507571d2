import type { FastifyRequest } from 'fastify';

/** Query parameters that carry credentials: sign-in tokens, SAML messages, OAuth codes and state. */
const SECRET_PARAMS = new Set(['jwt', 'code', 'state', 'samlresponse', 'samlrequest', 'relaystate', 'token', 'id_token', 'access_token', 'session_state', 'signature']);
/** A path segment that looks like a random token (emailed links carry 32 random bytes, base64url). */
const TOKEN_SEGMENT = /^[A-Za-z0-9_-]{32,}$/;

/**
 * A request address fit for a log line: tokens in the path and credentials in the query are
 * replaced, so emailed links, JWTs, SAML messages and authorization codes never reach the log.
 */
export function loggableUrl(url: string): string {
  const q = url.indexOf('?');
  const path = (q === -1 ? url : url.slice(0, q)).split('/').map((segment) => (TOKEN_SEGMENT.test(segment) ? '[redacted]' : segment)).join('/');
  if (q === -1) return path;
  const query = url.slice(q + 1).split('&').map((pair) => {
    const eq = pair.indexOf('=');
    const name = eq === -1 ? pair : pair.slice(0, eq);
    let decoded = name;
    try {
      decoded = decodeURIComponent(name);
    } catch {
      // An undecodable name is logged as sent.
    }
    return eq !== -1 && SECRET_PARAMS.has(decoded.toLowerCase()) ? `${name}=[redacted]` : pair;
  });
  return `${path}?${query.join('&')}`;
}

/** Fastify's request serializer, with the address made loggable. */
export function serializeRequest(request: FastifyRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: loggableUrl(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket.remotePort,
  };
}
