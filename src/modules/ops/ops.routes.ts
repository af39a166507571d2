import { Type } from 'typebox';
import { ping } from '../../db/database.js';
import { pendingMigrations } from '../../db/migrate.js';
import type { Deps } from '../../deps.js';
import type { App } from '../../http/types.js';
import type { Metrics } from './metrics.js';
import { errors } from '../../errors.js';
import { safeEqual } from '../../security/secrets.js';

const Health = Type.Object({ status: Type.String() });
const Ready = Type.Object({
  status: Type.Enum(['ready', 'not ready']),
  database: Type.Enum(['ok', 'unreachable']),
  pendingMigrations: Type.Array(Type.String()),
});

const Index = Type.Object({
  name: Type.String(),
  api: Type.String(),
  openapi: Type.String(),
  health: Type.String(),
  readiness: Type.String(),
  signIn: Type.String(),
  app: Type.String(),
});

export function opsRoutes(app: App, { deps, metrics }: { deps: Deps; metrics: Metrics }): void {
  app.get('/', {
    config: { access: 'public', anyHost: true },
    schema: { tags: ['operations'], summary: 'Where things are (on a portal host: its ticket list)', response: { 200: Index, 302: Type.Null() } },
  }, async (request, reply) => {
    if (request.portal !== null) return reply.code(302).header('location', `/${request.portal.slug}`).send(null);
    // A browser is sent to the staff app; API clients get the map below.
    if (request.headers.accept?.includes('text/html') === true) return reply.code(302).header('location', '/app/').send(null);
    return reply.send({
    name: 'Portico',
    api: '/api/v1',
    openapi: '/api/openapi.json',
    health: '/healthz',
    readiness: '/readyz',
    signIn: 'POST /api/v1/auth/sign-in',
    app: '/app/',
    });
  });

  app.get('/healthz', {
    config: { access: 'public', anyHost: true },
    logLevel: 'warn',
    schema: { tags: ['operations'], summary: 'The process is up', response: { 200: Health } },
  }, () => ({ status: 'ok' }));

  app.get('/readyz', {
    config: { access: 'public', anyHost: true },
    logLevel: 'warn',
    schema: { tags: ['operations'], summary: 'The database is reachable and migrated', response: { 200: Ready, 503: Ready } },
  }, async (_request, reply) => {
    let database: 'ok' | 'unreachable' = 'ok';
    let pending: string[] = [];
    try {
      await ping(deps.db);
      pending = await pendingMigrations(deps.db);
    } catch {
      database = 'unreachable';
    }
    metrics.dbUp.set(database === 'ok' ? 1 : 0);
    const ready = database === 'ok' && pending.length === 0;
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', database, pendingMigrations: pending });
  });

  // On the staff app's host only (a portal's host answers 404), and only to METRICS_TOKEN when set.
  app.get('/metrics', {
    config: { access: 'public' },
    logLevel: 'warn',
    schema: { tags: ['operations'], summary: 'Prometheus metrics', hide: true },
  }, async (request, reply) => {
    const token = deps.config.metricsToken;
    if (token !== null) {
      const sent = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
      if (sent === undefined || !safeEqual(sent, token)) throw errors.unauthenticated();
    }
    const body = await metrics.registry.metrics();
    return reply.header('content-type', metrics.registry.contentType).send(body);
  });
}
