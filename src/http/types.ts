import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { StaffPrincipal } from '../modules/staff/auth.service.js';
import type { Access } from '../modules/staff/staff.policy.js';

export type App = FastifyInstance<Server, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>;

/** One row per registered method and path: what the route-table test walks. */
export interface RouteEntry {
  method: string;
  url: string;
  access: Access;
  responseCodes: string[];
  bodyFields: string[];
}

declare module 'fastify' {
  interface FastifyInstance {
    routeTable: RouteEntry[];
  }
  interface FastifyContextConfig {
    /** Who may call the route. Required on every route: a route without it refuses to register. */
    access?: Access;
  }
  interface FastifyRequest {
    staff: StaffPrincipal | null;
  }
}
