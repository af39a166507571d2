import type { FastifyInstance } from 'fastify';
import { errors } from '../errors.js';

const TICK_MS = 10;

/**
 * Sheds load instead of queueing it. A request's handling runs to its end without yielding
 * (SQLite answers synchronously), so Node works through the sockets that were ready when a
 * poll began, one after the other: under overload that queue, not the work, is where latency
 * goes, and every request in it waits as long as all the ones before it took. A 10 ms timer can
 * only run between polls, so the time since it last ran is how long the current poll has
 * lasted: a lower bound on how long this request has been waiting. Past `maxLagMs` the request
 * gets a 503 with Retry-After at once, which costs next to nothing, so the rest of the queue
 * drains quickly and the requests that are served stay fast.
 *
 * (Mean event-loop delay, what @fastify/under-pressure samples, hides this: a single poll of
 * two seconds between many short ones averages out below any useful threshold.)
 */
export function registerLoadShedding(app: FastifyInstance, maxLagMs: number, onShed: () => void, now: () => number = () => performance.now()): void {
  if (maxLagMs <= 0) return;
  let lastTick = now();
  const timer = setInterval(() => {
    lastTick = now();
  }, TICK_MS);
  timer.unref();
  app.addHook('onReady', (done) => {
    // Building the app compiled every schema synchronously: that was not a queue.
    lastTick = now();
    done();
  });
  app.addHook('onClose', (_instance, done) => {
    clearInterval(timer);
    done();
  });
  app.addHook('onRequest', (request, reply, done) => {
    const lag = now() - lastTick - TICK_MS;
    // Liveness stays answerable: an overloaded process is busy, not dead.
    if (lag <= maxLagMs || request.url === '/healthz') {
      done();
      return;
    }
    onShed();
    reply.header('retry-after', String(Math.max(1, Math.ceil(lag / 1000))));
    done(errors.serviceUnavailable());
  });
}
