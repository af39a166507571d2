import type { App } from '../../http/types.js';

export function openApiRoutes(app: App): void {
  app.get('/api/openapi.json', {
    config: { access: 'public' },
    schema: { hide: true },
  }, (_request, reply) => reply.header('content-type', 'application/json; charset=utf-8').send(app.swagger()));
}
