import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FileStore } from '../../src/storage/file-store.js';
import { createTestApp, dialects, unique, type TestApp } from '../helpers/test-app.js';
import { kill, startServer, type Server } from '../helpers/server-process.js';

/**
 * P35 P27: a reply commits whole or not at all. A real server process (src/main.ts under tsx)
 * is stopped dead with SIGKILL at points inside a member's reply; the database and the file
 * store are then read as a restarted server finds them, and the next server process, started on
 * the same data, serves the ticket page.
 */

/** Points in the order a reply passes them; only the last is after the commit. */
const POINTS = ['file.synced', 'reply.files-stored', 'message.inserted', 'message.attachments-inserted', 'message.timeline-recorded', 'reply.committed'] as const;

interface Fixture {
  host: string;
  slug: string;
  ticketId: number;
  cookie: string;
  csrf: string;
}

/** Sends a reply as a browser would, multipart with the CSRF token first; resolves with the status, or null if the server died. */
function sendReply(server: Server, f: Fixture, text: string, files: { name: string; body: Buffer }[]): Promise<number | null> {
  const boundary = `----portico${randomBytes(8).toString('hex')}`;
  const parts: Buffer[] = [];
  const field = (name: string, value: string) => Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
  parts.push(field('csrf', f.csrf), field('body', text));
  for (const file of files) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="${file.name}"\r\nContent-Type: application/octet-stream\r\n\r\n`), file.body, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  const body = Buffer.concat(parts);
  return new Promise((resolve) => {
    const req = httpRequest({
      host: '127.0.0.1', port: server.port, method: 'POST', path: `/${f.slug}/${f.ticketId}/reply`,
      headers: { host: f.host, cookie: f.cookie, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': body.length },
    }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => {
      resolve(null);
    });
    req.end(body);
  });
}

function getPage(server: Server, f: Fixture): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: server.port, path: `/${f.slug}/${f.ticketId}`, headers: { host: f.host, cookie: f.cookie } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe.each(dialects)('a reply killed at any point on %s', (dialect) => {
  let t: TestApp;
  let f: Fixture;
  let next: Server | undefined;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    // The server processes keep real time; so do the sessions made here.
    t.clock.set(Date.now());
    const s = t.app.services;
    const host = `${unique('crash').toLowerCase()}.example.com`;
    const company = await s.companies.create({ name: unique('Co') });
    const email = `${unique('c')}@example.com`;
    const contact = await s.contacts.create({ email, primaryCompanyId: company.id });
    const { pipeline } = await s.pipelines.create({ name: unique('P'), stages: [{ name: 'Open', state: 'open' }] });
    const inbox = await s.inboxes.create(unique('Inbox'));
    const portal = await s.portals.create({ name: unique('Portal'), domain: host, consentText: 'ok', scope: 'contact', defaultInboxId: inbox.inbox.id, idleTimeoutMinutes: 600 });
    const enabled = await s.portals.update(portal.id, { enabled: true });
    await s.portals.createMember(portal.id, contact.id, 'crash test password');
    const ticket = await s.tickets.create({ subject: 'Crash test', pipelineId: pipeline.id, contactIds: [contact.id] }, null);
    await s.conversations.createThread({ inboxId: inbox.inbox.id, ticketId: ticket.id, contactId: contact.id, subject: 'Crash test', message: { bodyText: 'first message' } }, { type: 'customer', contactId: contact.id });
    const { token } = await s.memberAuth.signIn(enabled, email, 'crash test password', { ip: '127.0.0.1', userAgent: 'test' });
    const session = await t.app.deps.db.selectFrom('member_sessions').select('csrf_token').orderBy('created_at', 'desc').executeTakeFirstOrThrow();
    f = { host, slug: enabled.slug, ticketId: ticket.id, cookie: `portico_member=${token}`, csrf: session.csrf_token };
  }, 60_000);
  afterAll(async () => {
    if (next !== undefined) await kill(next);
    await t.close();
  });

  /** What the database and the store hold of this ticket's replies. */
  async function state() {
    const db = t.app.deps.db;
    const messages = await db.selectFrom('messages as m').innerJoin('threads as th', 'th.id', 'm.thread_id')
      .select(['m.id', 'm.body_text']).where('th.ticket_id', '=', f.ticketId).orderBy('m.id').execute();
    const attachments = await db.selectFrom('attachments').select(['message_id', 'sha256', 'size']).where('message_id', 'in', messages.map((m) => m.id)).execute();
    const engagements = await db.selectFrom('engagements').select(['message_id']).where('ticket_id', '=', f.ticketId).where('message_id', 'is not', null).execute();
    const ticket = await db.selectFrom('tickets').select(['last_activity_at', 'revision']).where('id', '=', f.ticketId).executeTakeFirstOrThrow();
    const search = await db.selectFrom('ticket_search').select('doc').where('ticket_id', '=', f.ticketId).executeTakeFirstOrThrow();
    return { messages, attachments, engagements, ticket, search: search.doc };
  }

  test.each(POINTS.map((point, k) => [point, k] as const))('P35 P27 killed at %s, a reply is whole or absent after restart', async (point) => {
    // The previous point's survivor is this point's restart: the data it serves was left by a kill.
    if (next !== undefined) await kill(next);
    const server = await startServer(t, point);
    const before = await state();
    const word = `crash${randomBytes(4).toString('hex')}`;
    const files = [{ name: 'a.bin', body: randomBytes(200_000) }, { name: 'b.txt', body: Buffer.from(`notes ${word}\n`.repeat(100)) }];
    const status = sendReply(server, f, `Reply ${word}`, files);
    expect(await server.stopped).toBe(point);
    await kill(server);
    expect(await status).toBeNull();

    const after = await state();
    const committed = point === 'reply.committed';
    if (!committed) {
      expect(after).toEqual(before);
    } else {
      const added = after.messages.filter((m) => !before.messages.some((b) => b.id === m.id));
      expect(added.map((m) => m.body_text)).toEqual([`Reply ${word}`]);
      const id = added[0]!.id;
      const rows = after.attachments.filter((a) => a.message_id === id);
      expect(rows.map((a) => a.sha256).sort()).toEqual(files.map((x) => createHash('sha256').update(x.body).digest('hex')).sort());
      const store = new FileStore(join(t.config.dataDir, 'files'));
      for (const row of rows) {
        const path = store.pathOf(row.sha256);
        expect(existsSync(path)).toBe(true);
        expect(createHash('sha256').update(readFileSync(path)).digest('hex')).toBe(row.sha256);
      }
      expect(after.engagements.filter((e) => e.message_id === id)).toHaveLength(1);
      expect(after.ticket.last_activity_at).toBeGreaterThan(before.ticket.last_activity_at);
      expect(after.search).toContain(` ${word} `);
    }

    // Restarted on what the kill left, the server serves the ticket as the data says.
    next = await startServer(t, '');
    const page = await getPage(next, f);
    expect(page.status).toBe(200);
    expect(page.body.includes(`Reply ${word}`)).toBe(committed);
  }, 60_000);

  test('P35 P27 what the killed replies left on disk is swept; the committed reply’s files stay', async () => {
    if (next !== undefined) await kill(next);
    next = undefined;
    const store = new FileStore(join(t.config.dataDir, 'files'));
    const onDisk = () => {
      const found: string[] = [];
      const walk = (dir: string) => {
        for (const entry of readdirSync(dir, { withFileTypes: true })) {
          if (entry.isDirectory()) walk(join(dir, entry.name));
          else found.push(join(dir, entry.name));
        }
      };
      walk(join(t.config.dataDir, 'files'));
      return found.sort();
    };
    const rows = await t.app.deps.db.selectFrom('attachments').select('sha256').execute();
    const kept = [...new Set(rows.map((r) => store.pathOf(r.sha256)))].sort();
    // The kills left a temporary file and the stored files of replies that never committed.
    expect(onDisk().length).toBeGreaterThan(kept.length);
    // Within the grace period nothing goes: those could be uploads on their way to a commit.
    expect(await t.app.services.conversations.sweepOrphanFiles()).toBe(0);
    t.clock.set(Date.now() + 2 * 60 * 60 * 1000);
    expect(await t.app.services.conversations.sweepOrphanFiles()).toBeGreaterThan(0);
    expect(onDisk()).toEqual(kept);
  });
});
