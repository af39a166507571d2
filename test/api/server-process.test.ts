import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MAX_MESSAGE_BYTES } from '../../src/modules/mail/inbound.service.js';
import { MAX_SESSIONS_PER_ADDRESS } from '../../src/modules/mail/smtp-listener.js';
import { smtpClient } from '../helpers/mail-in.js';
import { freePort } from '../helpers/server-process.js';
import { createTestApp, dialects, unique, type TestApp } from '../helpers/test-app.js';

/**
 * The real server (`portico start` under tsx, its standard output a pipe as under a process
 * supervisor), under what production does to it: a log reader that goes away or stops reading,
 * SMTP clients left open at shutdown, oversize mail from several clients at once.
 */
const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

interface Running {
  child: ChildProcess;
  port: number;
  smtpPort: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Kilobytes of a process's memory from /proc: its resident set now (VmRSS) or its peak (VmHWM). */
function memoryKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${field}:`)) ?? '';
  return Number(/(\d+)/.exec(line)?.[1] ?? NaN);
}

/** The first line a fresh SMTP connection gets: its greeting, or a refusal. */
async function greeting(port: number): Promise<{ socket: Socket; line: string }> {
  const socket = connect(port, '127.0.0.1');
  const lines = createInterface({ input: socket });
  const [line] = (await once(lines, 'line')) as [string];
  return { socket, line };
}

/** Sends one SMTP command and reads lines up to the reply's last (a line whose 4th character is a space). */
async function command(socket: Socket, text: string): Promise<string> {
  const lines = createInterface({ input: socket });
  socket.write(`${text}\r\n`);
  for await (const line of lines) {
    if (line[3] !== '-') {
      lines.close();
      return line;
    }
  }
  return '';
}

describe.each(dialects)('the server process on %s', (dialect) => {
  let t: TestApp;
  let address = '';
  const running: Running[] = [];

  beforeAll(async () => {
    t = await createTestApp(dialect);
    const { inbox } = await t.app.services.inboxes.create(unique('Support'));
    address = `${unique('support').toLowerCase()}@acme.example`;
    await t.app.services.inboxes.addChannel(inbox.id, { type: 'email', name: 'Support mail', address });
  });
  afterAll(async () => {
    for (const server of running) if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
    await t.close();
  });

  async function start(): Promise<Running> {
    const [port, smtpPort] = [await freePort(), await freePort()];
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '', DATA_DIR: t.config.dataDir,
      DATABASE_URL: t.config.database.dialect === 'sqlite' ? `sqlite:${t.config.database.file}` : t.config.database.url,
      SESSION_SECRET: 'test-secret-test-secret-test-secret-0123', HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info',
      MAX_EVENT_LOOP_DELAY_MS: '0', SMTP_LISTEN_PORT: String(smtpPort), SMTP_LISTEN_HOST: '127.0.0.1',
    };
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
    const server = { child, port, smtpPort, exited };
    running.push(server);
    const output: string[] = [];
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout });
      // The reader keeps reading (as a supervisor does) until a test stops it.
      lines.on('line', (line) => {
        if (output.length < 200) output.push(line);
        if (line.includes('Portico is serving')) resolve();
      });
      void exited.then(() => { reject(new Error(`the server exited before serving:\n${output.join('\n')}`)); });
    });
    return server;
  }

  const hit = (server: Running, path = '/') => fetch(`http://127.0.0.1:${server.port}${path}`, { headers: { accept: 'application/json' } });

  test('C9 a log reader that goes away costs log lines, never the server: it serves on, counts what it dropped, and exits at once on SIGTERM', async () => {
    const server = await start();
    // The supervisor reading the server's output dies, with lines on their way.
    server.child.stdout?.destroy();
    for (let i = 0; i < 20; i++) expect((await hit(server)).status).toBe(200);
    const metrics = await (await hit(server, '/metrics')).text();
    expect(Number(/^portico_log_lines_dropped_total (\d+)/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    server.child.kill('SIGTERM');
    // A server that hangs on SIGTERM never resolves this: the test fails at its timeout.
    expect(await server.exited).toEqual({ code: 0, signal: null });
  });

  test('C9 a log reader that stops reading (its pipe full) never blocks the server, nor its shutdown', async () => {
    const server = await start();
    server.child.stdout?.pause();
    // Far more than a pipe holds (64 KB): every request still answers.
    for (let i = 0; i < 600; i++) expect((await hit(server, `/?padding=${'x'.repeat(300)}`)).status).toBe(200);
    const metrics = await (await hit(server, '/metrics')).text();
    expect(Number(/^portico_log_lines_dropped_total (\d+)/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    server.child.kill('SIGTERM');
    // A server that hangs on SIGTERM never resolves this: the test fails at its timeout.
    expect(await server.exited).toEqual({ code: 0, signal: null });
  });

  test('C6 on SIGTERM, SMTP clients left open (idle, or mid-message) are told 421 and the server exits cleanly; oversize mail from several clients at once costs no memory; one address gets a bounded number of connections', async () => {
    const server = await start();
    const pid = server.child.pid ?? 0;

    // Four clients at once, each sending half again the size limit: each is refused with 552,
    // and the server's peak memory hardly moves (nothing is held whole).
    const before = memoryKb(pid, 'VmRSS');
    const oversize = MAX_MESSAGE_BYTES + MAX_MESSAGE_BYTES / 2;
    const stream = () => Readable.from((function* () {
      yield Buffer.from(`From: big@customer.example\r\nTo: ${address}\r\nSubject: Big\r\nMessage-ID: <${unique('big')}@customer.example>\r\n\r\n`);
      const line = Buffer.from(`${'x'.repeat(998)}\r\n`);
      for (let sent = 0; sent < oversize; sent += line.length) yield line;
    })());
    const results = await Promise.allSettled(Array.from({ length: 4 }, () => smtpClient(server.smtpPort).sendMail({ envelope: { from: 'big@customer.example', to: [address] }, raw: stream() })));
    for (const result of results) {
      expect(result.status).toBe('rejected');
      expect(String((result as PromiseRejectedResult).reason)).toMatch(/552/);
    }
    const growthKb = memoryKb(pid, 'VmHWM') - before;
    expect(growthKb).toBeLessThan(64 * 1024);
    expect(await t.app.deps.db.selectFrom('inbound_mail').select('id').where('subject', '=', 'Big').execute()).toEqual([]);

    // One address, many connections: past the cap, 421 at the greeting.
    const open: Socket[] = [];
    for (let i = 0; i < MAX_SESSIONS_PER_ADDRESS; i++) {
      const { socket, line } = await greeting(server.smtpPort);
      expect(line).toMatch(/^220 /);
      open.push(socket);
    }
    const refused = await greeting(server.smtpPort);
    expect(refused.line).toMatch(/^421 /);
    refused.socket.destroy();
    for (const socket of open) socket.destroy();

    // Left open at shutdown: one idle after EHLO, one in the middle of DATA.
    const idle = await greeting(server.smtpPort);
    expect(await command(idle.socket, 'EHLO client.example')).toMatch(/^250 /);
    const busy = await greeting(server.smtpPort);
    expect(await command(busy.socket, 'EHLO client.example')).toMatch(/^250 /);
    expect(await command(busy.socket, 'MAIL FROM:<half@customer.example>')).toMatch(/^250 /);
    expect(await command(busy.socket, `RCPT TO:<${address}>`)).toMatch(/^250 /);
    expect(await command(busy.socket, 'DATA')).toMatch(/^354 /);
    busy.socket.write('Subject: Half a message\r\n\r\nthe rest never comes');
    const lastLines = [idle.socket, busy.socket].map(async (socket) => {
      const lines: string[] = [];
      for await (const line of createInterface({ input: socket })) lines.push(line);
      return lines.at(-1) ?? '';
    });
    server.child.kill('SIGTERM');
    // A server that hangs on SIGTERM never resolves this: the test fails at its timeout.
    expect(await server.exited).toEqual({ code: 0, signal: null });
    for (const last of await Promise.all(lastLines)) expect(last).toMatch(/^421 /);
    expect(await t.app.deps.db.selectFrom('inbound_mail').select('id').where('subject', '=', 'Half a message').execute()).toEqual([]);
  }, 120_000);
});
