import Fastify from 'fastify';
import { afterEach, expect, test, vi } from 'vitest';
import { registerLoadShedding } from '../../src/http/load-shedding.js';
import { registerProblemHandlers } from '../../src/http/problem.js';

afterEach(() => {
  vi.useRealTimers();
});

test('X16 a request that has waited past the limit gets a problem 503 with Retry-After; liveness and prompt requests are served', async () => {
  // The sampler's timer is faked, so it only runs when the test says; the clock is injected.
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
  let now = 1_000;
  let shed = 0;
  const app = Fastify();
  registerProblemHandlers(app);
  registerLoadShedding(app, { maxLagMs: 500, onShed: () => shed++, now: () => now });
  app.get('/work', () => ({ ok: true }));
  app.get('/healthz', () => ({ status: 'ok' }));
  await app.ready();

  now += 400; // a poll that has lasted 400 ms: under the limit
  expect((await app.inject({ method: 'GET', url: '/work' })).statusCode).toBe(200);

  now += 1_700; // the same poll, 2.1 s in
  const busy = await app.inject({ method: 'GET', url: '/work' });
  expect(busy.statusCode).toBe(503);
  expect(busy.headers['retry-after']).toBe('3');
  expect(busy.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(busy.json()).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE' });
  expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  expect(shed).toBe(1);

  vi.advanceTimersByTime(10); // the poll ended: the timer ran
  expect((await app.inject({ method: 'GET', url: '/work' })).statusCode).toBe(200);
  await app.close();
});

test('X16 a limit of 0 turns shedding off', async () => {
  let now = 0;
  const app = Fastify();
  registerProblemHandlers(app);
  registerLoadShedding(app, { maxLagMs: 0, onShed: () => undefined, now: () => now });
  app.get('/work', () => ({ ok: true }));
  await app.ready();
  now += 60_000;
  expect((await app.inject({ method: 'GET', url: '/work' })).statusCode).toBe(200);
  await app.close();
});

test('X16 past the concurrent limit the next request gets a 503; a finished one frees its place, and liveness is never counted', async () => {
  const app = Fastify();
  registerProblemHandlers(app);
  registerLoadShedding(app, { maxLagMs: 0, onShed: () => undefined, now: () => 0, maxInFlight: 2 });
  let open = (): void => undefined;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  app.get('/slow', async () => {
    await gate;
    return { ok: true };
  });
  app.get('/fast', () => ({ ok: true }));
  app.get('/healthz', () => ({ status: 'ok' }));
  await app.ready();
  const first = app.inject({ method: 'GET', url: '/slow' });
  const second = app.inject({ method: 'GET', url: '/slow' });
  // Both are being worked on (waiting, as a PostgreSQL query waits for the pool).
  await new Promise<void>((resolve) => setImmediate(resolve));
  const third = await app.inject({ method: 'GET', url: '/fast' });
  expect(third.statusCode).toBe(503);
  expect(third.headers['retry-after']).toBe('1');
  expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  open();
  expect((await first).statusCode).toBe(200);
  expect((await second).statusCode).toBe(200);
  expect((await app.inject({ method: 'GET', url: '/fast' })).statusCode).toBe(200);
  // Failed requests free their place too.
  for (let i = 0; i < 5; i++) expect((await app.inject({ method: 'GET', url: '/missing' })).statusCode).toBe(404);
  expect((await app.inject({ method: 'GET', url: '/fast' })).statusCode).toBe(200);
  await app.close();
});

test('X16 past the concurrent limit a request waits for a place, oldest first, up to the wait limit; then, or when as many wait already, a 503', async () => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  const app = Fastify();
  registerProblemHandlers(app);
  registerLoadShedding(app, { maxLagMs: 0, onShed: () => undefined, now: () => 0, maxInFlight: 1, maxQueueWaitMs: 200 });
  let open = (): void => undefined;
  let gate = new Promise<void>((resolve) => { open = resolve; });
  const order: string[] = [];
  app.get('/slow', async () => {
    await gate;
    return { ok: true };
  });
  app.get('/work/:name', (request) => {
    order.push((request.params as { name: string }).name);
    return { ok: true };
  });
  await app.ready();
  const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
  const holder = app.inject({ method: 'GET', url: '/slow' });
  await tick();
  // Sixteen wait their turn, in order; the next finds sixteen times as many waiting as may work: refused at once.
  const waiters = Array.from({ length: 16 }, (_, i) => app.inject({ method: 'GET', url: `/work/w${i}` }));
  await tick();
  const refused = await app.inject({ method: 'GET', url: '/work/second' });
  expect(refused.statusCode).toBe(503);
  open();
  expect((await holder).statusCode).toBe(200);
  for (const waiter of waiters) expect((await waiter).statusCode).toBe(200);
  expect(order).toEqual(Array.from({ length: 16 }, (_, i) => `w${i}`));

  // A place that does not come within the wait: 503 then, not before.
  gate = new Promise<void>((resolve) => { open = resolve; });
  const again = app.inject({ method: 'GET', url: '/slow' });
  await tick();
  let answered = false;
  const late = app.inject({ method: 'GET', url: '/work/late' }).then((res) => { answered = true; return res; });
  await tick();
  vi.advanceTimersByTime(150);
  await tick();
  expect(answered).toBe(false);
  vi.advanceTimersByTime(60);
  const res = await late;
  expect(res.statusCode).toBe(503);
  expect(res.json()).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE' });
  expect(res.headers['retry-after']).toBe('1');
  open();
  await again;
  expect(order).toHaveLength(16);
  await app.close();
});

test('X16 a turned-away request is logged by no line of its own: no error, no stack, only its arrival', async () => {
  const lines: { level: number; msg: string }[] = [];
  const app = Fastify({ logger: { level: 'info', stream: { write: (line: string) => { lines.push(JSON.parse(line) as { level: number; msg: string }); } } } });
  registerProblemHandlers(app);
  let now = 1_000;
  registerLoadShedding(app, { maxLagMs: 100, onShed: () => undefined, now: () => now });
  app.get('/work', () => ({ ok: true }));
  await app.ready();
  now += 5_000;
  lines.length = 0;
  for (let i = 0; i < 10; i++) expect((await app.inject({ method: 'GET', url: '/work' })).statusCode).toBe(503);
  expect(lines.filter((l) => l.level >= 40)).toEqual([]);
  expect(lines.length).toBeLessThanOrEqual(10);
  expect(lines.every((l) => l.msg === 'incoming request')).toBe(true);
  await app.close();
});
