import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FileStore } from '../../src/storage/file-store.js';
import { createStaff, createTestApp, dialects, rowCounts, unique, type TestApp } from '../helpers/test-app.js';
import { cookiesOf, csrfOf } from '../helpers/portal-forms.js';

/**
 * Hostile file names and contents sent by a customer through the portal's reply form, then
 * downloaded from the portal. (The staff API's upload is covered in conversations.test.ts.)
 */

interface Session {
  host: string;
  slug: string;
  cookie: string;
}

/** One file part as a hostile client writes it: `disposition` is the filename parameter verbatim. */
interface Part {
  label: string;
  disposition: Buffer;
  content: Buffer;
  claimed: string;
}

/** Content-Disposition as RFC 6266 and RFC 8187 define it: a printable-ASCII fallback and the exact UTF-8 name. */
const DISPOSITION = /^attachment; filename="([\x20\x21\x23-\x5b\x5d-\x7e]*)"; filename\*=UTF-8''((?:%[0-9A-F]{2}|[A-Za-z0-9!#$&+.^_`|~-])+)$/;
/** Types that would run script on the portal's origin if a browser rendered them. */
const ACTIVE_TYPES = ['text/html', 'image/svg+xml', 'application/xhtml+xml', 'text/xml', 'application/xml', 'text/javascript', 'application/javascript'];



function multipart(fields: Record<string, string>, parts: Part[]) {
  const boundary = `----portico${unique('b')}`;
  const chunks: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  for (const p of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="attachments"; `), p.disposition, Buffer.from(`\r\nContent-Type: ${p.claimed}\r\n\r\n`));
    chunks.push(p.content, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** Every regular file under a directory, as paths relative to it. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true }).map(String).filter((p) => statSync(join(dir, p)).isFile()).sort();
}

describe.each(dialects)('hostile attachments through the portal on %s', (dialect) => {
  let t: TestApp;
  const PASSWORD = 'customer password 123';
  let session: Session;
  let ticketId = 0;
  let contactId = 0;
  /** A marker in every file's bytes, to look for anywhere a file might have leaked to. */
  const marker = unique('MARKER');

  beforeAll(async () => {
    t = await createTestApp(dialect);
    const s = t.app.services;
    const host = `${unique('support').toLowerCase()}.example.com`;
    const email = `${unique('customer')}@example.com`;
    const company = await s.companies.create({ name: unique('Co') });
    const contact = await s.contacts.create({ email, firstName: 'Cora', primaryCompanyId: company.id });
    contactId = contact.id;
    const { pipeline } = await s.pipelines.create({ name: unique('P'), stages: [{ name: 'Open', state: 'open' }] });
    const inbox = await s.inboxes.create(unique('Portal inbox'));
    const p = await s.portals.create({ name: unique('Portal'), domain: host, consentText: 'ok', defaultInboxId: inbox.inbox.id });
    await s.portals.update(p.id, { enabled: true });
    await s.portals.createMember(p.id, contact.id, PASSWORD);
    ticketId = (await s.tickets.create({ subject: 'Files for you', pipelineId: pipeline.id, contactIds: [contact.id] }, null)).id;

    const page = await t.app.inject({ method: 'GET', url: `/${p.slug}/sign-in`, headers: { host } });
    const res = await t.app.inject({
      method: 'POST', url: `/${p.slug}/sign-in`,
      headers: { host, cookie: `portico_form=${cookiesOf(page).portico_form!}`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ email, password: PASSWORD, csrf: csrfOf(page.body), next: `/${p.slug}` }).toString(),
    });
    expect(res.statusCode).toBe(303);
    session = { host, slug: p.slug, cookie: `portico_member=${cookiesOf(res).portico_member!}` };
  });
  afterAll(async () => {
    await t.close();
  });

  const get = (url: string) => t.app.inject({ method: 'GET', url, headers: { host: session.host, cookie: session.cookie } });

  /** Replies with these parts and returns the attachment rows of the new message, by the sha256 of their bytes. */
  async function reply(parts: Part[]) {
    const csrf = csrfOf((await get(`/${session.slug}/${ticketId}`)).body);
    const body = multipart({ csrf, body: 'Files attached.' }, parts);
    const res = await t.app.inject({ method: 'POST', url: `/${session.slug}/${ticketId}/reply`, headers: { host: session.host, cookie: session.cookie, 'content-type': body.contentType }, payload: body.payload });
    expect(res.statusCode, res.body).toBe(303);
    const db = t.app.deps.db;
    const message = await db.selectFrom('messages').select('id').where('contact_id', '=', contactId).orderBy('id', 'desc').executeTakeFirstOrThrow();
    const rows = await db.selectFrom('attachments').selectAll().where('message_id', '=', message.id).execute();
    return new Map(rows.map((r) => [r.sha256, r]));
  }

  /** The checks every portal download must pass, whatever the file. */
  function expectSafeDownload(res: LightMyRequestResponse, storedName: string, label: string) {
    expect(res.statusCode, label).toBe(200);
    for (const [name, value] of Object.entries(res.headers)) expect(String(value), `${label}: header ${name}`).not.toMatch(/[\r\n\0]/);
    expect(res.headers['set-cookie'], label).toBeUndefined();
    expect(res.headers['x-content-type-options'], label).toBe('nosniff');
    expect(res.headers['content-security-policy'], label).toBe("default-src 'none'; sandbox");
    expect(ACTIVE_TYPES, label).not.toContain(String(res.headers['content-type']).split(';')[0]!.trim().toLowerCase());
    const disposition = DISPOSITION.exec(String(res.headers['content-disposition']));
    expect(disposition, `${label}: ${String(res.headers['content-disposition'])}`).not.toBeNull();
    const [, ascii, utf8] = disposition!;
    expect(decodeURIComponent(utf8!), label).toBe(storedName);
    for (const name of [ascii!, storedName]) {
      expect(name, label).not.toMatch(/[/\\]/);
      expect(name, label).not.toMatch(/^\./);
      expect(name.length, label).toBeGreaterThan(0);
      expect(name.length, label).toBeLessThanOrEqual(255);
    }
  }

  test('P35 a customer’s hostile file names and contents are stored by hash inside DATA_DIR and come back as safe downloads', async () => {
    const text = (label: string, extra = '') => Buffer.from(`${label} ${marker}${extra}\n`);
    const quoted = (name: string) => Buffer.from(`filename="${name}"`);
    const encoded = (name: string) => Buffer.from(`filename*=UTF-8''${encodeURIComponent(name)}`);
    const files: (Part & { name: string | null; type: string })[] = [
      // `name` is what the stored file must be called (null: not stored at all); `type` what it is served as.
      { label: 'path traversal', disposition: quoted('../../etc/passwd'), content: text('root:x:0:0:root:/root:/bin/bash'), claimed: 'text/plain', name: 'passwd', type: 'text/plain' },
      { label: 'NUL', disposition: Buffer.concat([Buffer.from('filename="a'), Buffer.from([0]), Buffer.from('b.txt"')]), content: text('nul'), claimed: 'text/plain', name: 'a_b.txt', type: 'text/plain' },
      { label: 'quote', disposition: quoted('a\\"b.txt'), content: text('quote'), claimed: 'text/plain', name: 'a_b.txt', type: 'text/plain' },
      // Busboy drops a part whose file name holds a bare line break: nothing is stored for it.
      { label: 'CR/LF', disposition: encoded('x\r\nSet-Cookie: y=z.txt'), content: text('crlf'), claimed: 'text/plain', name: null, type: '' },
      { label: '300 characters (cut to 255 bytes, the extension kept)', disposition: quoted(`${'a'.repeat(296)}.txt`), content: text('long'), claimed: 'text/plain', name: `${'a'.repeat(251)}.txt`, type: 'text/plain' },
      // A browser sends a non-ASCII name as raw UTF-8 inside the quotes.
      { label: 'unicode', disposition: quoted('résumé 履歴書.pdf'), content: Buffer.from(`%PDF-1.4\n%${marker}\n%%EOF\n`), claimed: 'text/html', name: 'résumé 履歴書.pdf', type: 'application/pdf' },
      // Text a browser would render as a page, claimed as text: kept as text/plain, which with nosniff never renders.
      { label: 'HTML as text', disposition: quoted('notes.txt'), content: text('<!doctype html><html><body><script>alert(document.cookie)</script></body></html>'), claimed: 'text/plain', name: 'notes.txt', type: 'text/plain' },
      { label: 'HTML as HTML', disposition: quoted('page.html'), content: text('<html><script>alert(1)</script></html>'), claimed: 'text/html', name: 'page.html', type: 'application/octet-stream' },
      { label: 'SVG with script', disposition: quoted('logo.svg'), content: Buffer.from(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script><!-- ${marker} --></svg>`), claimed: 'image/svg+xml', name: 'logo.svg', type: 'application/octet-stream' },
      { label: 'markup in the name', disposition: quoted('<img src=x onerror=alert(1)>.txt'), content: text('markup'), claimed: 'text/plain', name: '_img src=x onerror=alert(1)_.txt', type: 'text/plain' },
    ];
    const rows = await reply(files);
    expect(rows.size).toBe(files.filter((f) => f.name !== null).length);

    const store = new FileStore(join(t.config.dataDir, 'files'));
    expect(realpathSync(t.config.dataDir)).toBe(realpathSync(t.dataDir));
    for (const f of files) {
      const row = rows.get(sha256(f.content));
      if (f.name === null) {
        expect(row, f.label).toBeUndefined();
        continue;
      }
      expect(row, f.label).toBeDefined();
      expect(row!.filename, f.label).toBe(f.name);
      // The bytes on disk sit where the store says, inside DATA_DIR, named by their hash only.
      const path = store.pathOf(row!.sha256);
      expect(relative(t.dataDir, realpathSync(path)).startsWith(`files${sep}`), f.label).toBe(true);
      expect(readFileSync(path).equals(f.content), f.label).toBe(true);

      const res = await get(`/${session.slug}/attachments/${row!.id}`);
      expectSafeDownload(res, f.name, f.label);
      expect(res.headers['content-type'], f.label).toBe(f.type);
      expect(res.rawPayload.equals(f.content), f.label).toBe(true);
    }
    const unicode = DISPOSITION.exec(String((await get(`/${session.slug}/attachments/${rows.get(sha256(files[5]!.content))!.id}`)).headers['content-disposition']))!;
    expect(unicode[1]).toBe('r_sum_ ___.pdf');
    expect(unicode[2]).toBe('r%C3%A9sum%C3%A9%20%E5%B1%A5%E6%AD%B4%E6%9B%B8.pdf');

    // The ticket page lists the names escaped.
    const page = (await get(`/${session.slug}/${ticketId}`)).body;
    expect(page).toContain('_img src=x onerror=alert(1)_.txt');
    expect(page).not.toContain('<img');

    // Only hash-named files under files/ (and an empty tmp/); no hostile name reached the file system.
    const known = new Set([...rows.keys()]);
    const stored = filesUnder(join(t.dataDir, 'files'));
    for (const p of stored) {
      expect(p, p).toMatch(/^([0-9a-f]{2})\/([0-9a-f]{2})\/\1\2[0-9a-f]{60}$/);
      expect(known.has(p.slice(6)), p).toBe(true);
    }
    expect(stored).toHaveLength(known.size);
    expect(filesUnder(join(t.dataDir, 'files', 'tmp'))).toEqual([]);
    for (const p of readdirSync(t.dataDir, { recursive: true }).map(String)) expect(p, p).not.toMatch(/passwd|Set-Cookie|résumé|履歴書|notes|logo|page\.html|<|"|\0/);
    // Nothing was written through the traversal, wherever it could have resolved from.
    for (const base of [t.dataDir, join(t.dataDir, 'files'), join(t.dataDir, 'files', 'tmp'), process.cwd()]) {
      const target = resolve(base, '../../etc/passwd');
      if (existsSync(target)) expect(readFileSync(target, 'utf8'), target).not.toContain(marker);
    }
    expect(readdirSync(dirname(t.dataDir)).filter((name) => /passwd|Set-Cookie|résumé|履歴書/.test(name))).toEqual([]);
  });

  test('P35 C3 an attachment whose file went missing on the server answers a clear page and the staff API a clear problem, never a 500', async () => {
    const content = Buffer.from(`${marker} lost`);
    const rows = await reply([{ label: 'lost', disposition: Buffer.from('filename="lost.txt"'), content, claimed: 'text/plain' }]);
    const row = rows.get(sha256(content))!;
    const { rmSync } = await import('node:fs');
    rmSync(new FileStore(join(t.dataDir, 'files')).pathOf(row.sha256));
    const page = await get(`/${session.slug}/attachments/${row.id}`);
    expect(page.statusCode).toBe(404);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('This file cannot be downloaded any more. The support team has been told.');
    const staff = await createStaff(t);
    const api = await t.app.inject({ method: 'GET', url: `/api/v1/attachments/${row.id}/content`, headers: staff.auth });
    expect(api.statusCode).toBe(404);
    expect(api.json()).toMatchObject({ code: 'ATTACHMENT_FILE_MISSING' });
  });

  test('P35 a reply whose text holds a NUL character is refused with 400 on both databases and writes nothing', async () => {
    const csrf = csrfOf((await get(`/${session.slug}/${ticketId}`)).body);
    const before = await rowCounts(t);
    const body = multipart({ csrf, body: 'before\0after' }, []);
    const res = await t.app.inject({ method: 'POST', url: `/${session.slug}/${ticketId}/reply`, headers: { host: session.host, cookie: session.cookie, 'content-type': body.contentType }, payload: body.payload });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(await rowCounts(t)).toEqual(before);
  });

  test('P35 a stored name with CR/LF, quotes and non-ASCII (say, from an import) still downloads without a header injection', async () => {
    const staff = await createStaff(t);
    const [attachment] = [...(await reply([{ label: 'carrier', disposition: Buffer.from('filename="carrier.txt"'), content: Buffer.from(unique('carrier')), claimed: 'text/plain' }])).values()];
    const raw = 'x\r\nSet-Cookie: y=z;\x7f "ü".txt';
    await t.app.deps.db.updateTable('attachments').set({ filename: raw, uploaded_by_staff_id: staff.id }).where('id', '=', attachment!.id).execute();
    const res = await get(`/${session.slug}/attachments/${attachment!.id}`);
    expectSafeDownload(res, raw, 'raw name');
    expect(DISPOSITION.exec(String(res.headers['content-disposition']))![1]).toBe('x__Set-Cookie: y=z;_ ___.txt');
    // The staff API serves the same file the same way.
    const staffRes = await t.app.inject({ method: 'GET', url: `/api/v1/attachments/${attachment!.id}/content`, headers: staff.auth });
    expect(staffRes.headers['content-disposition']).toBe(res.headers['content-disposition']);
    expect(staffRes.headers['set-cookie']).toBeUndefined();
  });
});
