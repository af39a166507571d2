import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';

/**
 * Requests to addresses an admin typed (an OpenID Connect issuer, a JWKS URL, and whatever comes
 * later) go through one client that refuses private, loopback, link-local, unique-local, CGNAT,
 * multicast, reserved and unspecified addresses. The check runs on the addresses the connection
 * is made to, inside the socket's own name lookup, so a name that answers a public address to
 * one lookup and an internal one to the next (DNS rebinding) cannot slip through.
 */

/** A request Portico will not make, with the reason in a sentence. */
export class OutboundRefused extends Error {
  readonly code = 'OUTBOUND_REFUSED';
  constructor(message: string) {
    super(message);
    this.name = 'OutboundRefused';
  }
}

const INTERNAL = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network", the unspecified address
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, cloud metadata services
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relays
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) INTERNAL.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  ['::', 96], // unspecified, loopback, IPv4-compatible (IPv4-mapped ones are checked as IPv4 by BlockList)
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard
  ['2001::', 23], // protocol assignments (Teredo among them)
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4, which carries an IPv4 address
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local
  ['ff00::', 8], // multicast
] as const) INTERNAL.addSubnet(network, prefix, 'ipv6');

/** The IPv4 address a NAT64 address (64:ff9b::/96) stands for, or null. */
function nat64Target(address: string): string | null {
  const match = /^64:ff9b::(?:([0-9a-f]{1,4}):([0-9a-f]{1,4})|(\d+\.\d+\.\d+\.\d+))$/i.exec(address);
  if (match === null) return null;
  if (match[3] !== undefined) return match[3];
  const high = parseInt(match[1] ?? '0', 16);
  const low = parseInt(match[2] ?? '0', 16);
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

/** Whether an IP address is one Portico does not contact unless told to: anything not on the public internet. */
export function isInternalAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 0) return true;
  if (family === 4) return INTERNAL.check(bare, 'ipv4');
  const target = nat64Target(bare.toLowerCase());
  return target !== null ? INTERNAL.check(target, 'ipv4') : INTERNAL.check(bare, 'ipv6');
}

function refusal(host: string, address: string): OutboundRefused {
  const named = host === address ? address : `${host} (${address})`;
  return new OutboundRefused(`${named} is on this machine or a private or internal network, which Portico does not contact; OUTBOUND_ALLOW_PRIVATE=true allows it for development`);
}

/** Resolves a name to all its addresses (dns.lookup with `all: true`). */
export type Lookup = (hostname: string, options: LookupOptions & { all: true }, callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

export interface OutboundOptions {
  /** Development and tests: loopback and private addresses allowed (OUTBOUND_ALLOW_PRIVATE). */
  allowPrivate: boolean;
  /** Whole request, connect to last byte. */
  timeoutMs?: number;
  /** Largest response body, after decompression. */
  maxBytes?: number;
  /** The name resolver (tests give their own, to answer what DNS would). */
  lookup?: Lookup;
}

/** What a request may carry: a subset of fetch's options, as openid-client and jose send them. */
export interface OutboundInit {
  method?: string;
  headers?: HeadersInit;
  body?: unknown;
  signal?: AbortSignal | null;
  redirect?: string;
}

export type OutboundFetch = (input: string | URL, init?: OutboundInit) => Promise<Response>;

export interface OutboundClient {
  /** A fetch that answers like the Fetch API (redirects are returned, never followed). */
  fetch: OutboundFetch;
  /**
   * Why an address would not be fetched, as a sentence for the admin who typed it; null when it
   * may be. Names are resolved only when fetched (what DNS answers may change), so this catches
   * addresses written as IPs, plain http and other schemes.
   */
  problemWith(url: string): string | null;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_BYTES = 1024 * 1024;

function bodyBytes(body: unknown): Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof URLSearchParams) return Buffer.from(body.toString());
  if (body instanceof Uint8Array) return Buffer.from(body);
  if (body instanceof ArrayBuffer) return Buffer.from(new Uint8Array(body));
  throw new OutboundRefused('the request body is of a kind this client does not send');
}

function decoded(raw: Buffer, encoding: string | undefined, maxBytes: number): Buffer {
  const options = { maxOutputLength: maxBytes };
  switch (encoding?.trim().toLowerCase()) {
    case undefined: case '': case 'identity': return raw;
    case 'gzip': case 'x-gzip': return gunzipSync(raw, options);
    case 'deflate': return inflateSync(raw, options);
    case 'br': return brotliDecompressSync(raw, options);
    default: throw new OutboundRefused(`the answer is encoded as ${encoding}, which this client does not read`);
  }
}

function toResponse(res: IncomingMessage, raw: Buffer, maxBytes: number): Response {
  const headers = new Headers();
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
    const name = res.rawHeaders[i] ?? '';
    if (['content-encoding', 'content-length', 'transfer-encoding'].includes(name.toLowerCase())) continue;
    try {
      headers.append(name, res.rawHeaders[i + 1] ?? '');
    } catch {
      // A header no fetch would accept is left out.
    }
  }
  const status = res.statusCode ?? 502;
  const body = [204, 205, 304].includes(status) ? null : new Uint8Array(decoded(raw, res.headers['content-encoding'], maxBytes));
  return new Response(body, { status, statusText: res.statusMessage ?? '', headers });
}

/** One request and its whole answer, cut off past `maxBytes`; redirects are answers like any other. */
function exchange(url: URL, options: RequestOptions, body: Buffer | undefined, maxBytes: number): Promise<{ res: IncomingMessage; raw: Buffer }> {
  return new Promise((done, fail) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const request = send(url, { ...options, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) res.destroy(new OutboundRefused(`the answer from ${url.host} is larger than ${maxBytes} bytes`));
        else chunks.push(chunk);
      });
      res.on('error', fail);
      res.on('end', () => {
        done({ res, raw: Buffer.concat(chunks) });
      });
    });
    request.on('error', fail);
    request.end(body);
  });
}

/** The one client for requests to addresses admins configure; built once at boot. */
export function createOutboundClient(options: OutboundOptions): OutboundClient {
  const resolve: Lookup = options.lookup ?? ((hostname, lookupOptions, callback) => {
    dnsLookup(hostname, lookupOptions, callback);
  });
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;

  /** The socket's name lookup: every address the name resolves to must be public. */
  const guardedLookup: LookupFunction = (hostname, lookupOptions, callback) => {
    resolve(hostname, { ...lookupOptions, all: true }, (error, addresses) => {
      const internal = addresses.find((a) => isInternalAddress(a.address));
      const first = addresses[0];
      if (error !== null) callback(error, []);
      else if (!options.allowPrivate && internal !== undefined) callback(refusal(hostname, internal.address), []);
      else if (first === undefined) callback(new OutboundRefused(`${hostname} has no address`), []);
      else if (lookupOptions.all === true) callback(null, addresses);
      else callback(null, first.address, first.family);
    });
  };

  const problemWith = (raw: string): string | null => {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return 'is not an address';
    }
    if (url.protocol !== 'https:' && (url.protocol !== 'http:' || !options.allowPrivate)) return 'must be an https address';
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (!options.allowPrivate && isIP(host) !== 0 && isInternalAddress(host)) {
      return 'is on this machine or a private or internal network, which Portico does not contact';
    }
    return null;
  };

  const fetch: OutboundFetch = async (input, init = {}) => {
    const url = new URL(input);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OutboundRefused('only http and https addresses are fetched');
    // An address written as an IP is connected to without a lookup: it is checked here.
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (!options.allowPrivate && isIP(host) !== 0 && isInternalAddress(host)) throw refusal(host, host);
    const body = bodyBytes(init.body);
    const headers = new Headers(init.headers);
    headers.set('accept-encoding', 'gzip, deflate, br');
    if (body !== undefined) headers.set('content-length', String(body.length));
    const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), ...(init.signal ? [init.signal] : [])]);
    const { res, raw } = await exchange(url, { method: init.method ?? 'GET', headers: Object.fromEntries(headers), lookup: guardedLookup, signal }, body, maxBytes);
    try {
      return toResponse(res, raw, maxBytes);
    } catch (error) {
      throw error instanceof RangeError ? new OutboundRefused(`the answer from ${url.host} is larger than ${maxBytes} bytes`) : error;
    }
  };

  return { fetch, problemWith };
}

/** The OutboundRefused somewhere in an error's causes (libraries wrap what fetch threw), if any. */
export function outboundRefusalIn(error: unknown): OutboundRefused | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth += 1) {
    if (current instanceof OutboundRefused) return current;
    current = current.cause;
  }
  return undefined;
}
