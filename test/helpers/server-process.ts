import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { TestApp } from './test-app.js';

/** The real server, `portico start` from the sources under tsx, for the crash tests. */
const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export interface Server {
  child: ChildProcess;
  port: number;
  /** Resolves with the failpoint's name when the process stops at one. */
  stopped: Promise<string>;
}

/** Starts `portico start` on the test's data and waits until it serves (its own log line says so). */
export async function startServer(t: TestApp, failpoints: string, extraEnv: Record<string, string> = {}): Promise<Server> {
  const port = await freePort();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    DATA_DIR: t.config.dataDir,
    DATABASE_URL: t.config.database.dialect === 'sqlite' ? `sqlite:${t.config.database.file}` : t.config.database.url,
    SESSION_SECRET: 'test-secret-test-secret-test-secret-0123',
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'info',
    MAX_EVENT_LOOP_DELAY_MS: '0',
    PORTICO_FAILPOINTS: failpoints,
    ...extraEnv,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const stopped = new Promise<string>((resolve) => {
    createInterface({ input: child.stderr }).on('line', (line) => {
      output.push(line);
      const hit = /^portico failpoint: (\S+)$/.exec(line);
      if (hit?.[1] !== undefined) resolve(hit[1]);
    });
  });
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      output.push(line);
      if (line.includes('Portico is serving')) resolve();
    });
    child.once('exit', (code, signal) => {
      reject(new Error(`the server exited before serving (code ${String(code)}, signal ${String(signal)}):\n${output.join('\n')}`));
    });
  });
  return { child, port, stopped };
}

export async function kill(server: Server): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  const exited = once(server.child, 'exit');
  server.child.kill('SIGKILL');
  await exited;
}

