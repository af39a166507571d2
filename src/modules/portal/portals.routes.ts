import { Type, type Static } from 'typebox';
import { Id, IdParams, NullableTimestamp, Page, Timestamp, iso, problemResponses } from '../../http/common-schemas.js';
import { decodeCursor, pickSort, toPage } from '../../http/pagination.js';
import type { App } from '../../http/types.js';
import type { ConditionT } from '../filters/filters.js';
import { MatchingQuery, Member, MemberCreate, MemberParams, MembersQuery, MemberUpdate, Portal, PortalCreate, PortalUpdate } from './portals.schemas.js';
import { missingForEnable, type MemberRow, type PortalRow, type PortalsService } from './portals.service.js';
import { readJsonArray } from '../../util/json.js';
import { brandingOf, menuOf } from './theme.js';
import { offeredLanguages } from '../i18n/translations.service.js';
import { presentTranslations } from '../i18n/admin-text.js';
import type { InvitationsService } from '../members/invitations.service.js';
import type { PreviewsService } from './previews.service.js';
import { logoFileOf, type PortalLogoService } from './logo.service.js';
import { errors } from '../../errors.js';
import { staffOf } from '../../http/auth.js';
import type { Deps } from '../../deps.js';
import { portalUrl } from '../members/account.service.js';
import { membersLosingAccess } from '../members/access-lists.js';

function presentPortal(deps: Deps, row: PortalRow, accessListIds: number[], ssoListIds: number[], ssoProviders: number): Static<typeof Portal> {
  return {
    id: row.id,
    url: row.domain === null ? null : portalUrl(deps, row, ''),
    name: row.name,
    enabled: row.enabled === 1,
    title: row.title,
    domain: row.domain,
    slug: row.slug,
    language: offeredLanguages(row)[0] ?? 'en',
    languages: offeredLanguages(row),
    timeZone: row.time_zone,
    scope: row.scope,
    filters: readJsonArray<ConditionT>(row.filters),
    defaultInboxId: row.default_inbox_id,
    showCustomStages: row.show_custom_stages === 1,
    idleTimeoutMinutes: row.idle_timeout_minutes,
    signInMethods: readJsonArray<'password' | 'magic_link' | 'sso'>(row.sign_in_methods),
    selfRegistration: row.self_registration === 1,
    accessListIds,
    ssoAudience: row.sso_audience,
    formId: row.form_id,
    kbPortalLink: row.kb_portal_link === 1,
    kbInMenu: row.kb_in_menu === 1,
    ssoListIds,
    consentText: row.consent_text,
    consentLabel: row.consent_label,
    branding: brandingOf(row),
    menu: menuOf(row),
    translations: presentTranslations(row.translations),
    missing: missingForEnable(row, ssoProviders).map((m) => m.message),
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

function presentMember(row: MemberRow): Static<typeof Member> {
  return {
    id: row.id,
    portalId: row.portal_id,
    contactId: row.contact_id,
    hasPassword: row.password_hash !== null,
    disabled: row.disabled_at !== null,
    lastSignInAt: iso(row.last_sign_in_at),
    createdAt: iso(row.created_at),
  };
}

const MEMBER_SORT = pickSort('createdAt', 'createdAt', { createdAt: 'id' }, 'id');
const noContent = { 204: Type.Null(), ...problemResponses };

/** Portal settings and members: only staff holding the portal settings permission (P3). */
export function portalsRoutes(app: App, { portals, invitations, previews, logos }: { portals: PortalsService; invitations: InvitationsService; previews: PreviewsService; logos: PortalLogoService }): void {
  const tags = ['portals'];

  app.get('/api/v1/portals', {
    config: { access: 'portal_settings' },
    schema: { tags, summary: 'List customer portals (all of them)', response: { 200: Type.Object({ items: Type.Array(Portal), nextCursor: Type.Null() }), ...problemResponses } },
  }, async () => {
    const rows = await portals.list();
    const ids = rows.map((r) => r.id);
    const [lists, ssoLists, providers] = [await portals.accessLists(ids), await portals.accessLists(ids, 'portal_sso_lists'), await portals.enabledSsoProviders(ids)];
    return { items: rows.map((r) => presentPortal(app.deps, r, lists.get(r.id) ?? [], ssoLists.get(r.id) ?? [], providers.get(r.id) ?? 0)), nextCursor: null };
  });

  const present = async (row: PortalRow) =>
    presentPortal(app.deps, row, (await portals.accessLists([row.id])).get(row.id) ?? [], (await portals.accessLists([row.id], 'portal_sso_lists')).get(row.id) ?? [],
      (await portals.enabledSsoProviders([row.id])).get(row.id) ?? 0);

  app.get('/api/v1/portals/:id', {
    config: { access: 'portal_settings' },
    schema: { tags, summary: 'Get a portal, with what it still needs before it can be enabled', params: IdParams, response: { 200: Portal, ...problemResponses } },
  }, async (request) => present(await portals.get(request.params.id)));

  app.post('/api/v1/portals', {
    config: { access: 'portal_settings' },
    schema: { tags, summary: 'Create a portal (disabled until it has a domain, a sign-in method and consent text)', body: PortalCreate, response: { 201: Portal, ...problemResponses } },
  }, async (request, reply) => reply.code(201).send(await present(await portals.create(request.body))));

  app.patch('/api/v1/portals/:id', {
    config: { access: 'portal_settings' },
    schema: { tags, summary: 'Change a portal’s settings, or enable or disable it', params: IdParams, body: PortalUpdate, response: { 200: Portal, ...problemResponses } },
  }, async (request) => present(await portals.update(request.params.id, request.body)));

  app.delete('/api/v1/portals/:id', {
    config: { access: 'portal_settings' },
    schema: { tags, summary: 'Delete a portal and its members', params: IdParams, response: noContent },
  }, async (request, reply) => {
    await portals.delete(request.params.id);
    return reply.code(204).send(null);
  });

  app.post('/api/v1/portals/:id/matching-tickets', {
    config: { access: 'portal_settings' },
    schema: {
      tags, summary: 'How many tickets meet these filter rules right now (the rules are not saved)',
      params: IdParams, body: MatchingQuery,
      response: { 200: Type.Object({ matching: Type.Integer(), total: Type.Integer({ description: 'Every ticket in the help desk' }) }), ...problemResponses },
    },
  }, async (request) => {
    await portals.get(request.params.id);
    return portals.countMatching(request.body.filters);
  });

  app.post('/api/v1/portals/:id/members-losing-access', {
    config: { access: 'portal_settings' },
    schema: {
      tags, summary: 'Who could sign in now and could not with these access lists (nothing is saved): to confirm before saving them',
      params: IdParams, body: Type.Object({ accessListIds: Type.Array(Id, { maxItems: 50, uniqueItems: true, title: 'Contact lists with access' }) }, { additionalProperties: false }),
      response: {
        200: Type.Object({
          count: Type.Integer({ description: 'Active members who would lose access' }),
          first: Type.Array(Type.Object({ name: Type.String(), email: Type.String() }), { description: 'The first five of them' }),
        }),
        ...problemResponses,
      },
    },
  }, async (request) => {
    await portals.get(request.params.id);
    return membersLosingAccess(app.deps.db, request.params.id, request.body.accessListIds);
  });

  app.post('/api/v1/portals/:id/logo', {
    config: { access: 'portal_settings' },
    schema: {
      tags, summary: 'Upload the portal’s logo: multipart/form-data, field "file"; PNG, JPEG, GIF or WebP by content, at most 1 MB; it replaces the logo address on the portal',
      consumes: ['multipart/form-data'], params: IdParams, response: { 200: Portal, ...problemResponses },
    },
  }, async (request) => {
    if (!request.isMultipart()) throw errors.unsupportedMediaType('multipart/form-data');
    const file = await request.file();
    if (file?.fieldname !== 'file') throw errors.validation([{ path: '/body/file', message: 'Send one picture, as the multipart field named file.' }]);
    return present(await logos.upload(request.params.id, file.file, file.filename, file.mimetype));
  });

  app.delete('/api/v1/portals/:id/logo', {
    config: { access: 'portal_settings' },
    schema: { tags, summary: 'Remove the uploaded logo (the logo address, if any, shows again)', params: IdParams, response: { 200: Portal, ...problemResponses } },
  }, async (request) => present(await logos.remove(request.params.id)));

  app.get('/api/v1/portals/:id/logo', {
    config: { access: 'portal_settings' },
    schema: { tags, summary: 'The uploaded logo itself, for the settings screen', params: IdParams },
  }, async (request, reply) => {
    const portal = await portals.get(request.params.id);
    const file = logoFileOf(portal);
    const logo = file === null ? undefined : await logos.open(portal, file.sha256);
    if (logo === undefined) throw errors.notFound('logo');
    return reply.header('content-type', logo.contentType).header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "default-src 'none'; sandbox").send(logo.body);
  });

  app.post('/api/v1/portals/:id/previews', {
    config: { access: 'portal_settings' },
    schema: {
      tags, summary: 'View the customer portal as a member would: a link to open on the portal’s host, once, within two minutes; the preview is read-only and recorded',
      params: IdParams, body: Type.Object({ memberId: Id }, { additionalProperties: false }),
      response: { 201: Type.Object({ id: Type.Integer(), url: Type.String(), expiresAt: Timestamp }), ...problemResponses },
    },
  }, async (request, reply) => {
    const preview = await previews.create(request.params.id, request.body.memberId, staffOf(request).actor.id);
    return reply.code(201).header('cache-control', 'no-store').send({ id: preview.id, url: preview.url, expiresAt: iso(preview.expiresAt) });
  });

  app.get('/api/v1/portals/:id/previews', {
    config: { access: 'portal_settings' },
    schema: {
      tags, summary: 'Who previewed the portal as whom, and when (newest 50)', params: IdParams,
      response: {
        200: Type.Object({ items: Type.Array(Type.Object({ id: Type.Integer(), memberId: Type.Integer(), contactEmail: Type.String(), staffUserId: Type.Integer(), staffName: Type.String(), createdAt: Timestamp, openedAt: NullableTimestamp })) }),
        ...problemResponses,
      },
    },
  }, async (request) => ({
    items: (await previews.list(request.params.id, 50)).map((p) => ({ ...p, createdAt: iso(p.createdAt), openedAt: iso(p.openedAt) })),
  }));

  app.get('/api/v1/portals/:id/members', {
    config: { access: 'portal_settings' },
    schema: { tags, summary: 'List a portal’s members', params: IdParams, querystring: MembersQuery, response: { 200: Page(Member), ...problemResponses } },
  }, async (request) => {
    const limit = request.query.limit ?? 25;
    const rows = await portals.listMembers(request.params.id, decodeCursor(MEMBER_SORT, request.query.cursor)?.id, limit);
    const page = toPage(rows, limit, MEMBER_SORT, (r) => ({ value: r.id, id: r.id }));
    return { items: page.rows.map(presentMember), nextCursor: page.nextCursor };
  });

  app.post('/api/v1/portals/:id/members', {
    config: { access: 'portal_settings' },
    schema: { tags, summary: 'Give a contact a sign-in on the portal, optionally with an initial password (imports)', params: IdParams, body: MemberCreate, response: { 201: Member, ...problemResponses } },
  }, async (request, reply) => reply.code(201).send(presentMember(await portals.createMember(request.params.id, request.body.contactId, request.body.password))));

  app.patch('/api/v1/portals/:id/members/:memberId', {
    config: { access: 'portal_settings' },
    schema: { tags, summary: 'Disable, enable, or set a member’s password', params: MemberParams, body: MemberUpdate, response: { 200: Member, ...problemResponses } },
  }, async (request) => presentMember(await portals.updateMember(request.params.id, request.params.memberId, request.body)));

  app.post('/api/v1/portals/:id/members/:memberId/invitation', {
    config: { access: 'portal_settings' },
    schema: { tags, summary: 'Send a member who has no password yet a new invitation (the previous link stops working)', params: MemberParams, response: noContent },
  }, async (request, reply) => {
    await invitations.resend(request.params.id, request.params.memberId);
    return reply.code(204).send(null);
  });

  app.delete('/api/v1/portals/:id/members/:memberId', {
    config: { access: 'portal_settings' },
    schema: { tags, summary: 'Remove a member’s sign-in', params: MemberParams, response: noContent },
  }, async (request, reply) => {
    await portals.deleteMember(request.params.id, request.params.memberId);
    return reply.code(204).send(null);
  });
}
