import { randomUUID } from 'node:crypto';
import cookie from '@fastify/cookie';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions } from 'pino';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import type { Deps } from './deps.js';
import { AppError, errors } from './errors.js';
import { registerAuth } from './http/auth.js';
import { registerLimits } from './http/limits.js';
import { registerProblemHandlers } from './http/problem.js';
import { portalErrorPage } from './modules/portal/pages.routes.js';
import { registerSecurityHeaders } from './http/security-headers.js';
import type { App } from './http/types.js';
import { registerValidation } from './http/validation.js';
import { buildServices, type Services } from './services.js';
import { registerRoutes } from './routes.js';
import { Metrics } from './modules/ops/metrics.js';
import { registerLoadShedding } from './http/load-shedding.js';
import { serializeRequest } from './http/log-url.js';
import { LogDestination } from './http/log-destination.js';
import { systemResolver, type DnsResolver } from './util/dns.js';

/** An escaped NUL in JSON text: \u0000 after an even number of backslashes (an odd one escapes the backslash). */
const JSON_NUL = /(?<!\\)(?:\\\\)*\\u0000/i;

export interface BuildOptions {
  config: Config;
  database: Database;
  clock?: Clock;
  /** A pino logger to use; by default one is made from config.logLevel. */
  logger?: FastifyBaseLogger;
  defaultMetrics?: boolean;
  /** DNS for the checks on incoming mail; by default the system's resolver. */
  dns?: DnsResolver;
}

declare module 'fastify' {
  interface FastifyInstance {
    services: Services;
    metrics: Metrics;
    deps: Deps;
  }
}

const REQUEST_ID = /^[A-Za-z0-9._-]{8,128}$/;

/** Secrets that must never reach a log line. */
export const LOG_REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'password',
  'secret',
  'token',
];

/** Builds the whole application: plugins, services, routes. No globals; `app.close()` releases all. */
export async function buildApp(options: BuildOptions): Promise<App> {
  const { config, database } = options;
  const clock = options.clock ?? systemClock;
  // Log lines go to standard output, never blocking: a reader that is gone or stalled loses lines, not the server.
  const logDestination = new LogDestination();
  const app = Fastify({
    ...(options.logger === undefined
      ? { logger: { level: config.logLevel, redact: { paths: LOG_REDACT, censor: '[redacted]' }, serializers: { req: serializeRequest }, stream: logDestination } }
      : {
        loggerInstance: options.logger,
        // A logger made elsewhere brings Fastify's own request serializer; each request's logger gets ours.
        childLoggerFactory: (logger: FastifyBaseLogger, bindings: Bindings, opts: ChildLoggerOptions) => logger.child(bindings, { ...opts, serializers: { ...opts.serializers, req: serializeRequest } }),
      }),
    bodyLimit: config.bodyLimit,
    trustProxy: config.trustProxy,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    routerOptions: { maxParamLength: 200, ignoreTrailingSlash: true },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  }).withTypeProvider<TypeBoxTypeProvider>();

  const deps: Deps = { db: database.db, dialect: database.dialect, clock, config, dns: options.dns ?? systemResolver() };
  const services = buildServices(deps, app.log);
  const metrics = new Metrics({ defaultMetrics: options.defaultMetrics ?? false });
  app.decorate('services', services);
  app.decorate('metrics', metrics);
  app.decorate('deps', deps);

  registerValidation(app);
  // A JSON API: bodies are application/json (or multipart for uploads), never text/plain.
  app.removeContentTypeParser('text/plain');
  // JSON may spell a NUL character (\u0000), which PostgreSQL cannot store and no text needs:
  // refused before parsing, the same on both databases.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (JSON_NUL.test(text)) {
      done(errors.validation([{ path: '/body', message: 'Remove the NUL characters: text may not contain them.' }]), undefined);
      return;
    }
    void parseJson(request, text, done);
  });
  // Before validation, after the Host is resolved: on a portal's host the answer is its error page.
  app.addHook('preValidation', (request, _reply, done) => {
    done(request.url.includes('%00') ? new AppError(400, 'BAD_REQUEST', 'The request address holds a NUL character.') : undefined);
  });
  registerProblemHandlers(app, (request, error) => portalErrorPage({ translations: services.translations, themes: services.themes }, request, error));

  registerSecurityHeaders(app, config);
  registerLoadShedding(app, {
    maxLagMs: config.maxEventLoopDelayMs, maxInFlight: config.maxConcurrentRequests, maxQueueWaitMs: config.maxQueueWaitMs,
    onShed: () => { metrics.shed.inc(); },
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const labels = { method: request.method, route, status_code: String(reply.statusCode) };
    metrics.requests.inc(labels);
    metrics.duration.observe(labels, reply.elapsedTime / 1000);
    done();
  });

  // Cookies are parsed by the auth hook only when a request has no bearer token (http/auth.ts).
  await app.register(cookie, { hook: false });
  await app.register(multipart, {
    limits: { fileSize: config.attachmentLimit, files: 1, fields: 10, fieldSize: 64 * 1024, parts: 12, headerPairs: 100 },
    throwFileSizeLimit: true,
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Portico API', version: '1', description: 'The help-desk core: contacts, companies, lists, pipelines, tickets, inboxes, conversations and staff.' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'An API token (ptk_…).' },
          session: { type: 'apiKey', in: 'cookie', name: 'portico_staff', description: 'Staff session; unsafe requests also need X-CSRF-Token.' },
        },
      },
      security: [{ bearer: [] }, { session: [] }],
    },
  });

  registerAuth(app, config, { staff: services.staffAuth, members: services.memberAuth, hosts: services.portalHosts });
  registerLimits(app, services.limits, { secret: config.sessionSecret, clock });
  registerRoutes(app, deps, services, metrics);
  metrics.trackOutbox(() => services.outbox.depth());
  metrics.trackDroppedLogLines(() => logDestination.dropped);

  app.addHook('onClose', async () => {
    await database.close();
  });
  return app;
}
