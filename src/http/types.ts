import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { MemberPrincipal } from '../modules/members/member-auth.service.js';
import type { PortalRow } from '../modules/portal/portals.service.js';
import type { Translator } from '../modules/i18n/translator.js';
import type { Theme } from '../modules/portal/theme.js';
import type { StaffPrincipal } from '../modules/staff/auth.service.js';
import type { Access } from '../modules/staff/staff.policy.js';
import type { RouteLimit } from './limits.js';

export type App = FastifyInstance<Server, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>;

/** One row per registered method and path: what the route-table test walks. */
export interface RouteEntry {
  method: string;
  url: string;
  access: Access;
  responseCodes: string[];
  bodyFields: string[];
  /** The request schemas, for the tests that walk every constraint (test/api/field-messages.test.ts). */
  schemas: { body?: unknown; querystring?: unknown; params?: unknown };
}

declare module 'fastify' {
  interface FastifyInstance {
    routeTable: RouteEntry[];
  }
  interface FastifyContextConfig {
    /** Who may call the route. Required on every route: a route without it refuses to register. */
    access?: Access;
    /** Answers on portal hosts too (health checks). */
    anyHost?: boolean;
    /** On an 'portal' route (a public page such as the knowledge base): the member too, when signed in, for the page's header. */
    memberIfSignedIn?: boolean;
    /** Request limits, taken after validation and before the handler (http/limits.ts). */
    limits?: RouteLimit[];
  }
  interface FastifyRequest {
    staff: StaffPrincipal | null;
    /** The portal whose host the request came to, if any (http/auth.ts). */
    portal: PortalRow | null;
    /** The signed-in portal member, on 'member' routes. */
    member: MemberPrincipal | null;
    /** The translator of a portal page, once the page has chosen its language (i18n/). */
    translator: Translator | null;
    /** The portal's theme, made ready with the translator (portal/portal-themes.ts). */
    portalTheme: Theme | null;
  }
}
