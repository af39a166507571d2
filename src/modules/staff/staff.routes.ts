import { Type } from 'typebox';
import { staffOf } from '../../http/auth.js';
import { IdParams, Page, problemResponses } from '../../http/common-schemas.js';
import { decodeCursor, pickSort, toPage } from '../../http/pagination.js';
import type { App } from '../../http/types.js';
import type { Deps } from '../../deps.js';
import { errors } from '../../errors.js';
import type { StaffAuthService } from './auth.service.js';
import { hasPermission } from './staff.policy.js';
import { presentStaff, presentToken } from './staff.presenter.js';
import * as repo from './staff.repository.js';
import {
  ApiToken, ApiTokenCreate, ApiTokenCreated, StaffListQuery, StaffUser, StaffUserCreate, StaffUserUpdate, TokenListQuery,
} from './staff.schemas.js';
import type { StaffService } from './staff.service.js';

export interface StaffRoutesOptions {
  deps: Deps;
  staff: StaffService;
  auth: StaffAuthService;
}

const STAFF_SORTS = { createdAt: 'created_at', name: 'name', email: 'email_key' };
const TOKEN_SORT = pickSort('-createdAt', '-createdAt', { createdAt: 'created_at' }, 'id');

export function staffRoutes(app: App, { deps, staff, auth }: StaffRoutesOptions): void {
  const tags = ['staff'];

  app.get('/api/v1/staff-users', {
    config: { access: 'staff' },
    schema: { tags, summary: 'List staff users', querystring: StaffListQuery, response: { 200: Page(StaffUser), ...problemResponses } },
  }, async (request) => {
    const limit = request.query.limit ?? 25;
    const sort = pickSort(request.query.sort, 'name', STAFF_SORTS, 'id', ['name', 'email']);
    const rows = await repo.listStaff(deps.db, sort, decodeCursor(sort, request.query.cursor), limit);
    const page = toPage(rows, limit, sort, (r) => ({ value: sort.column === 'name' ? r.name : sort.column === 'email_key' ? r.email_key : r.created_at, id: r.id }));
    return { items: page.rows.map(presentStaff), nextCursor: page.nextCursor };
  });

  app.get('/api/v1/staff-users/:id', {
    config: { access: 'staff' },
    schema: { tags, summary: 'Get a staff user', params: IdParams, response: { 200: StaffUser, ...problemResponses } },
  }, async (request) => presentStaff(await staff.get(request.params.id)));

  app.post('/api/v1/staff-users', {
    config: { access: 'manage_staff' },
    schema: { tags, summary: 'Create a staff user', body: StaffUserCreate, response: { 201: StaffUser, ...problemResponses } },
  }, async (request, reply) => reply.code(201).send(presentStaff(await staff.create(request.body))));

  app.patch('/api/v1/staff-users/:id', {
    config: { access: 'manage_staff' },
    schema: { tags, summary: 'Change a staff user', params: IdParams, body: StaffUserUpdate, response: { 200: StaffUser, ...problemResponses } },
  }, async (request) => presentStaff(await staff.update(request.params.id, request.body)));

  app.delete('/api/v1/staff-users/:id', {
    config: { access: 'manage_staff' },
    schema: { tags, summary: 'Delete a staff user', params: IdParams, response: { 204: Type.Null(), ...problemResponses } },
  }, async (request, reply) => {
    await staff.delete(request.params.id, staffOf(request).actor.id);
    return reply.code(204).send(null);
  });

  // API tokens: everyone manages their own; manage_staff sees and revokes anyone's.

  app.get('/api/v1/api-tokens', {
    config: { access: 'staff' },
    schema: { tags: ['api tokens'], summary: 'List API tokens', querystring: TokenListQuery, response: { 200: Page(ApiToken), ...problemResponses } },
  }, async (request) => {
    const actor = staffOf(request).actor;
    const limit = request.query.limit ?? 25;
    let owner: number | undefined = request.query.staffUserId ?? actor.id;
    if (owner !== actor.id && !hasPermission(actor, 'manage_staff')) throw errors.forbidden();
    if (request.query.staffUserId === undefined && hasPermission(actor, 'manage_staff')) owner = undefined;
    const rows = await repo.listTokens(deps.db, owner, TOKEN_SORT, decodeCursor(TOKEN_SORT, request.query.cursor), limit);
    const page = toPage(rows, limit, TOKEN_SORT, (r) => ({ value: r.created_at, id: r.id }));
    return { items: page.rows.map(presentToken), nextCursor: page.nextCursor };
  });

  app.post('/api/v1/api-tokens', {
    config: { access: 'staff' },
    schema: { tags: ['api tokens'], summary: 'Create an API token for yourself; the secret is shown once', body: ApiTokenCreate, response: { 201: ApiTokenCreated, ...problemResponses } },
  }, async (request, reply) => {
    const actor = staffOf(request).actor;
    let expiresAt: number | null = null;
    if (request.body.expiresAt !== undefined && request.body.expiresAt !== null) {
      expiresAt = Date.parse(request.body.expiresAt);
      if (!(expiresAt > deps.clock.now())) {
        throw errors.validation([{ path: '/body/expiresAt', message: 'Choose a date and time in the future.' }]);
      }
    }
    const { secret, row } = await auth.createApiToken(actor.id, request.body.name, expiresAt);
    reply.header('cache-control', 'no-store');
    return reply.code(201).send({ token: presentToken(row), secret });
  });

  app.delete('/api/v1/api-tokens/:id', {
    config: { access: 'staff' },
    schema: { tags: ['api tokens'], summary: 'Revoke an API token', params: IdParams, response: { 204: Type.Null(), ...problemResponses } },
  }, async (request, reply) => {
    const actor = staffOf(request).actor;
    const token = await repo.findTokenById(deps.db, request.params.id);
    // Someone else's token is "not found" unless you may manage staff.
    if (token === undefined || (token.staff_user_id !== actor.id && !hasPermission(actor, 'manage_staff'))) {
      throw errors.notFound('api token');
    }
    await repo.revokeToken(deps.db, token.id, deps.clock.now());
    return reply.code(204).send(null);
  });
}
