import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { decodeWords } from 'postal-mime';

/** Header blocks longer than this are read as far as this; the rest counts as body. */
const MAX_HEADER_BYTES = 256 * 1024;

/**
 * The headers that say what a mail is, as its sender wrote it. Trace headers (Received,
 * Return-Path, Delivered-To, DKIM and ARC signatures, Authentication-Results, X-…) are left out:
 * relays add and rewrite those, so the same mail reaching us twice by two routes still has the
 * same fingerprint.
 */
const IDENTITY_HEADERS = ['from', 'sender', 'to', 'cc', 'subject', 'date', 'message-id', 'in-reply-to', 'references', 'content-type', 'mime-version'];

/** Where the header block ends (the first empty line), or -1. */
function headerEnd(bytes: Buffer): { at: number; length: number } | undefined {
  const crlf = bytes.indexOf('\r\n\r\n');
  const lf = bytes.indexOf('\n\n');
  if (crlf === -1 && lf === -1) return undefined;
  if (lf === -1 || (crlf !== -1 && crlf < lf)) return { at: crlf, length: 4 };
  return { at: lf, length: 2 };
}

/** Header bytes as text: UTF-8 where they are (RFC 6532), else Latin-1, which reads any byte. */
function headerText(bytes: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}

/** The fields of a header block, unfolded: name (lower case) to each value, in order. */
export function parseHeaderBlock(block: string): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  for (const line of block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const values = fields.get(name) ?? [];
    values.push(line.slice(colon + 1).trim());
    fields.set(name, values);
  }
  return fields;
}

/** A header's value as a person reads it: encoded words (=?UTF-8?B?…?=) decoded, as the mail parser does. */
export function decodeHeader(value: string | undefined): string {
  if (value === undefined) return '';
  try {
    return decodeWords(value);
  } catch {
    return value;
  }
}

/**
 * Reads a mail as it streams through (to the spool file), without holding it: its header block
 * (at most 256 KB) and a fingerprint of what it says, the identity headers and a hash of the
 * body, so that two deliveries of one mail are known as one, and another mail that reuses a
 * Message-ID is not.
 */
export class MailScanner extends Transform {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private header: Buffer | undefined;
  private readonly body: Hash = createHash('sha256');

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.header !== undefined) {
      this.body.update(chunk);
    } else {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      const seen = Buffer.concat(this.pending);
      const end = headerEnd(seen);
      if (end !== undefined && end.at <= MAX_HEADER_BYTES) this.split(seen, end.at, end.at + end.length);
      else if (this.pendingBytes > MAX_HEADER_BYTES) this.split(seen, MAX_HEADER_BYTES, MAX_HEADER_BYTES);
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.header === undefined) {
      const seen = Buffer.concat(this.pending);
      this.split(seen, seen.length, seen.length);
    }
    callback();
  }

  private split(seen: Buffer, headerEndsAt: number, bodyStartsAt: number): void {
    this.header = seen.subarray(0, headerEndsAt);
    this.body.update(seen.subarray(bodyStartsAt));
    this.pending = [];
  }

  /** The header block's fields (once the stream has ended). */
  fields(): Map<string, string[]> {
    return parseHeaderBlock(headerText(this.header ?? Buffer.alloc(0)));
  }

  /** The first value of a field, decoded for people. */
  field(name: string): string | undefined {
    const value = this.fields().get(name)?.[0];
    return value === undefined ? undefined : decodeHeader(value);
  }

  /** The fingerprint of what the mail says: its identity headers and its body (hex sha256). */
  fingerprint(): string {
    const fields = this.fields();
    const identity = IDENTITY_HEADERS.map((name) => [name, (fields.get(name) ?? []).map((v) => v.replace(/\s+/g, ' '))]);
    return createHash('sha256').update(JSON.stringify([identity, this.body.copy().digest('hex')])).digest('hex');
  }
}
