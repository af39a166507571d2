import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

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
 * answer starts to go out (so a slow download does not hold a place). The next one waits, first
 * come first served, up to `maxQueueWaitMs` for a place, and is turned away only then (or at
 * once when 16 times `maxInFlight` are waiting already): a short burst is served instead of refused,
 * and under sustained overload each refusal comes after the wait, so clients that retry at once
 * (as load generators and impatient scripts do, whatever Retry-After says) retry no faster than
 * the server frees places, and refusing them no longer eats the time that serving needs.
 * Turning away by the pool's wait instead was tried: it shed 93% at 400 connections and still
 * answered the rest at p99 1.5 s, because the requests already admitted kept queueing, query
 * after query.
 *
 * A refusal is as cheap as can be: a fixed problem document written at once, logged by no line
 * of its own (its request's own "incoming request" line aside) and counted in /metrics.
 */
export interface SheddingOptions {
  /** Turn away a request that waited this long behind others in one poll; 0: never. */
  maxLagMs: number;
  /** Work on at most this many requests at once; 0: no limit. */
  maxInFlight?: number;
  /** How long a request past `maxInFlight` waits for a place before it is turned away. */
  maxQueueWaitMs?: number;
  onShed: () => void;
  now?: () => number;
}

const REFUSAL = JSON.stringify({
  type: 'https://portico.dev/problems/service-unavailable', title: 'The server is busy. Try again shortly.', status: 503, code: 'SERVICE_UNAVAILABLE',
});

export function registerLoadShedding(app: FastifyInstance, options: SheddingOptions): void {
  const { maxLagMs, maxInFlight = 0, maxQueueWaitMs = 0, onShed, now = () => performance.now() } = options;
  if (maxLagMs <= 0 && maxInFlight <= 0) return;
  let lastTick = now();
  const timer = setInterval(() => {
    lastTick = now();
  }, TICK_MS);
  timer.unref();
  let inFlight = 0;
  /**
   * Requests waiting for a place, oldest first, at most this many: enough that every connection
   * of a crowd waits rather than being refused at once (each refusal is answered by an instant
   * retry that costs the time serving needs), few enough to bound what waiting holds.
   */
  const maxWaiting = maxInFlight * 16;
  /** Requests waiting for a place, oldest first. */
  const waiting: { admit: () => void; timer: NodeJS.Timeout }[] = [];
  const release = new WeakMap<object, () => void>();
  app.addHook('onReady', (done) => {
    // Building the app compiled every schema synchronously: that was not a queue.
    lastTick = now();
    done();
  });
  app.addHook('onClose', (_instance, done) => {
    clearInterval(timer);
    for (const w of waiting.splice(0)) clearTimeout(w.timer);
    done();
  });

  const refuse = (request: FastifyRequest, reply: FastifyReply, retryAfterS: number) => {
    onShed();
    // No "request completed" line either: a refusal costs no more than its arrival's line.
    reply.log = request.log.child({}, { level: 'silent' });
    void reply.code(503).header('retry-after', String(retryAfterS)).header('cache-control', 'no-store')
      .header('content-type', 'application/problem+json; charset=utf-8').send(REFUSAL);
  };

  /** Takes a place for the request, freed whatever happens to it (answered, failed, the client gone). */
  const hold = (request: FastifyRequest, reply: FastifyReply) => {
    inFlight++;
    let held = true;
    const free = () => {
      if (!held) return;
      held = false;
      inFlight--;
      // The place goes to the request that has waited longest.
      const next = waiting.shift();
      if (next !== undefined) {
        clearTimeout(next.timer);
        next.admit();
      }
    };
    release.set(request, free);
    reply.raw.once('close', free);
  };

  app.addHook('onRequest', (request, reply, done) => {
    // Liveness stays answerable: an overloaded process is busy, not dead.
    if (request.url === '/healthz') {
      done();
      return;
    }
    const lag = now() - lastTick - TICK_MS;
    if (maxLagMs > 0 && lag > maxLagMs) {
      refuse(request, reply, Math.max(1, Math.ceil(lag / 1000)));
      return;
    }
    if (maxInFlight <= 0 || inFlight < maxInFlight) {
      if (maxInFlight > 0) hold(request, reply);
      done();
      return;
    }
    if (maxQueueWaitMs <= 0 || waiting.length >= maxWaiting) {
      refuse(request, reply, 1);
      return;
    }
    const entry = {
      admit: () => {
        if (reply.raw.destroyed) {
          // Gone while it waited: the place goes on to the next.
          hold(request, reply);
          release.get(request)?.();
          return;
        }
        hold(request, reply);
        done();
      },
      timer: setTimeout(() => {
        const at = waiting.indexOf(entry);
        if (at !== -1) waiting.splice(at, 1);
        refuse(request, reply, 1);
      }, maxQueueWaitMs),
    };
    entry.timer.unref();
    waiting.push(entry);
  });
  app.addHook('onSend', (request, _reply, payload, done) => {
    release.get(request)?.();
    done(null, payload);
  });
}
