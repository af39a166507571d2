import type { FastifyInstance } from 'fastify';
import { errors } from '../errors.js';

const TICK_MS = 10;

/**
 * Sheds load instead of queueing it, two ways.
 *
 * By waiting: a request's handling runs to its end without yielding (SQLite answers
 * synchronously), so Node works through the sockets that were ready when a poll began, one
 * after the other: under overload that queue, not the work, is where latency goes, and every
 * request in it waits as long as all the ones before it took. A 10 ms timer can only run between
 * polls, so the time since it last ran is how long the current poll has lasted: a lower bound on
 * how long this request has been waiting. Past `maxLagMs` the request gets a 503 with
 * Retry-After at once, which costs next to nothing, so the rest of the queue drains quickly and
 * the requests that are served stay fast. (Mean event-loop delay, what @fastify/under-pressure
 * samples, hides this: a single poll of two seconds between many short ones averages out below
 * any useful threshold.)
 *
 * By count: on PostgreSQL a request yields while its queries wait for a pooled connection, so
 * polls stay short and the queue forms at the pool instead, out of sight of the timer. At most
 * `maxInFlight` requests are worked on at once; a request counts from its arrival until its
 * answer starts to go out (so a slow download does not hold a place), and the next one is
 * turned away. Turning away by the pool's wait instead was tried: it shed 93% at 400
 * connections and still answered the rest at p99 1.5 s, because the requests already admitted
 * kept queueing, query after query.
 */
export function registerLoadShedding(
  app: FastifyInstance,
  maxLagMs: number,
  onShed: () => void,
  now: () => number = () => performance.now(),
  maxInFlight = 0,
): void {
  if (maxLagMs <= 0 && maxInFlight <= 0) return;
  let lastTick = now();
  const timer = setInterval(() => {
    lastTick = now();
  }, TICK_MS);
  timer.unref();
  let inFlight = 0;
  const release = new WeakMap<object, () => void>();
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
    // Liveness stays answerable: an overloaded process is busy, not dead.
    if (request.url === '/healthz') {
      done();
      return;
    }
    const lag = now() - lastTick - TICK_MS;
    const waitedTooLong = maxLagMs > 0 && lag > maxLagMs;
    if (waitedTooLong || (maxInFlight > 0 && inFlight >= maxInFlight)) {
      onShed();
      reply.header('retry-after', String(waitedTooLong ? Math.max(1, Math.ceil(lag / 1000)) : 1));
      done(errors.serviceUnavailable());
      return;
    }
    inFlight++;
    let held = true;
    const free = () => {
      if (!held) return;
      held = false;
      inFlight--;
    };
    release.set(request, free);
    // Whatever happens to the request (answered, failed, the client gone), its place is freed.
    reply.raw.once('close', free);
    done();
  });
  app.addHook('onSend', (request, _reply, payload, done) => {
    release.get(request)?.();
    done(null, payload);
  });
}
