import type { FastifyReply } from 'fastify';
import type { Readable } from 'node:stream';
import type { AttachmentRow } from './conversations.repository.js';

/** Types a browser may show inline safely are still sent as downloads; the rest as octet-stream. */
const KNOWN_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf', 'text/plain']);

export function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  // RFC 8187 allows fewer characters than encodeURIComponent leaves alone: encode ' ( ) * too.
  const utf8 = encodeURIComponent(filename).replace(/['()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${utf8}`;
}

/**
 * Sends a stored attachment as a download that can never run on the serving origin: always
 * `Content-Disposition: attachment`, the sniffed type only when harmless, nosniff, and a
 * sandboxing CSP. The one way every surface (staff API, portal) serves a file.
 */
export function sendAttachment(reply: FastifyReply, row: AttachmentRow, body: Readable): FastifyReply {
  return reply
    .header('content-type', KNOWN_TYPES.has(row.content_type) ? row.content_type : 'application/octet-stream')
    .header('content-length', String(row.size))
    .header('content-disposition', contentDisposition(row.filename))
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', "default-src 'none'; sandbox")
    .header('cache-control', 'private, no-store')
    .send(body);
}
