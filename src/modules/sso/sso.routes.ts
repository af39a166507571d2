import { Type, type Static } from 'typebox';
import { IdParams, iso, problemResponses } from '../../http/common-schemas.js';
import type { App } from '../../http/types.js';
import { errors } from '../../errors.js';
import type { PortalRow, PortalsService } from '../portal/portals.service.js';
import { Provider, ProviderCreate, ProviderParams, ProviderSaved, ProviderUpdate } from './sso.schemas.js';
import type { ProviderRow, SsoService } from './sso.service.js';

/**
 * Identity providers of a portal (P12): only staff with the portal settings permission (P3).
 * Secrets go in and never come out: the answer names which are set.
 */
export function ssoRoutes(app: App, { sso, portals }: { sso: SsoService; portals: PortalsService }): void {
  const tags = ['single sign-on'];
  const present = (portal: PortalRow, row: ProviderRow, linked: Map<number, number>): Static<typeof Provider> => ({
    id: row.id,
    portalId: row.portal_id,
    kind: row.kind,
    name: row.name,
    enabled: row.enabled === 1,
    createContacts: row.create_contacts === 1,
    settings: sso.settings(row),
    secretsSet: sso.secretNames(row),
    urls: sso.urls(portal, row),
    linkedMembers: linked.get(row.id) ?? 0,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  });

  app.get('/api/v1/portals/:id/sso-providers', {
    config: { access: 'portal_settings' },
    schema: { tags, summary: 'List a portal’s identity providers', params: IdParams, response: { 200: Type.Object({ items: Type.Array(Provider), nextCursor: Type.Null() }), ...problemResponses } },
  }, async (request) => {
    const portal = await portals.get(request.params.id);
    const linked = await sso.linkedMembers(portal.id);
    return { items: (await sso.list(portal.id)).map((row) => present(portal, row, linked)), nextCursor: null };
  });

  app.post('/api/v1/portals/:id/sso-providers', {
    config: { access: 'portal_settings' },
    schema: {
      tags,
      summary: 'Add an identity provider: SAML 2.0 (settings, or idpMetadataXml), JWT or OpenID Connect',
      params: IdParams,
      body: ProviderCreate,
      response: { 201: ProviderSaved, ...problemResponses },
    },
  }, async (request, reply) => {
    const portal = await portals.get(request.params.id);
    const { row, warnings } = await sso.create(portal.id, { ...request.body, kind: request.body.kind });
    return reply.code(201).send({ ...present(portal, row, new Map()), warnings });
  });

  app.get('/api/v1/portals/:id/sso-providers/:providerId', {
    config: { access: 'portal_settings' },
    schema: { tags, summary: 'Get an identity provider (without its secrets)', params: ProviderParams, response: { 200: Provider, ...problemResponses } },
  }, async (request) => {
    const portal = await portals.get(request.params.id);
    return present(portal, await sso.get(portal.id, request.params.providerId), await sso.linkedMembers(portal.id));
  });

  app.patch('/api/v1/portals/:id/sso-providers/:providerId', {
    config: { access: 'portal_settings' },
    schema: {
      tags,
      summary: 'Change an identity provider; a secret set to null is removed, one left out is kept',
      params: ProviderParams,
      body: ProviderUpdate,
      response: { 200: ProviderSaved, ...problemResponses },
    },
  }, async (request) => {
    const portal = await portals.get(request.params.id);
    const { row, warnings } = await sso.update(portal.id, request.params.providerId, request.body);
    return { ...present(portal, row, await sso.linkedMembers(portal.id)), warnings };
  });

  app.get('/api/v1/portals/:id/sso-providers/:providerId/saml-metadata', {
    config: { access: 'portal_settings' },
    schema: {
      tags,
      summary: 'The service provider metadata to give a SAML identity provider (also served on the portal’s host once it is enabled)',
      params: ProviderParams,
      produces: ['application/samlmetadata+xml'],
      response: { 200: Type.String(), ...problemResponses },
    },
  }, async (request, reply) => {
    const portal = await portals.get(request.params.id);
    const row = await sso.get(portal.id, request.params.providerId);
    if (row.kind !== 'saml') throw errors.notFound('SAML provider');
    return reply.type('application/samlmetadata+xml; charset=utf-8').send(sso.saml(portal, row).metadata());
  });

  app.delete('/api/v1/portals/:id/sso-providers/:providerId', {
    config: { access: 'portal_settings' },
    schema: { tags, summary: 'Remove an identity provider and the identities it linked', params: ProviderParams, response: { 204: Type.Null(), ...problemResponses } },
  }, async (request, reply) => {
    await sso.delete(request.params.id, request.params.providerId);
    return reply.code(204).send(null);
  });
}
