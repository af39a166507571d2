import Fastify from 'fastify';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/database.js';

/**
 * The benchmark's server process (node dist/bench/server.js, forked by bench/run.ts with an IPC
 * channel): the real app, built as in production, and a bare Fastify route for comparison, each on
 * its own ephemeral port. Keeping the servers out of the load generator's process means
 * autocannon and the app do not share an event loop, which is what real load looks like.
 *
 * The app's environment comes as JSON in BENCH_APP_ENV, so nothing else from the caller's
 * environment leaks into the configuration.
 */

export const BARE_PATH = '/bare';

export interface ServerReady {
  type: 'ready';
  /** The app's origin, e.g. http://127.0.0.1:41234. */
  apiUrl: string;
  /** The bare route's full URL, path included. */
  bareUrl: string;
}

export interface ServerFailed {
  type: 'failed';
  message: string;
}

export type ServerMessage = ServerReady | ServerFailed;
export interface StopMessage {
  type: 'stop';
}

function appEnv(raw: string | undefined): Record<string, string> {
  if (raw === undefined) throw new Error('BENCH_APP_ENV is not set; this process is started by bench/run.ts');
  const parsed: unknown = JSON.parse(raw);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('BENCH_APP_ENV must be a JSON object');
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value !== 'string') throw new Error(`BENCH_APP_ENV.${key} must be a string`);
    env[key] = value;
  }
  return env;
}

function send(message: ServerMessage, then?: () => void): void {
  if (process.send === undefined) throw new Error('bench/server must be started with an IPC channel (by bench/run.ts)');
  process.send(message, undefined, undefined, () => then?.());
}

function isStop(message: unknown): message is StopMessage {
  return typeof message === 'object' && message !== null && 'type' in message && message.type === 'stop';
}

async function main(): Promise<void> {
  const config = loadConfig(appEnv(process.env.BENCH_APP_ENV));
  const database = openDatabase(config.database);
  const app = await buildApp({ config, database });
  const bare = Fastify();
  bare.get(BARE_PATH, () => ({ hello: 'world' }));

  const apiUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  const bareUrl = await bare.listen({ host: '127.0.0.1', port: 0 });

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await Promise.allSettled([app.close(), bare.close()]);
    process.exit(0);
  };
  process.on('message', (message: unknown) => {
    if (isStop(message)) void stop();
  });
  // The parent went away (crashed or was interrupted): do not linger.
  process.on('disconnect', () => void stop());

  send({ type: 'ready', apiUrl, bareUrl: `${bareUrl}${BARE_PATH}` });
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  console.error(`bench server: ${message}`);
  if (process.send === undefined) process.exit(1);
  send({ type: 'failed', message }, () => process.exit(1));
});
