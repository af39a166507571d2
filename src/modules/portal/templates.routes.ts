import { Type } from 'typebox';
import { Id, Nullable, Timestamp, iso, problemResponses } from '../../http/common-schemas.js';
import type { App } from '../../http/types.js';
import { isLanguage, LANGUAGES } from '../i18n/catalogue.js';
import type { TranslationsService } from '../i18n/translations.service.js';
import { PortalThemes, renderSample } from './portal-themes.js';
import type { PortalsService } from './portals.service.js';
import { TEMPLATE_NAMES, type TemplateName } from './theme.js';
import { SOURCE_LIMITS } from './template-limits.js';

const Name = Type.Enum([...TEMPLATE_NAMES], { description: 'A page of the portal, its layout, or the HTML or text part of its emails' });
const Params = Type.Object({ id: Id, name: Name }, { additionalProperties: false });
const Template = Type.Object({
  name: Name,
  custom: Type.Boolean({ description: 'Whether the portal uses its own source rather than the default theme’s' }),
  source: Type.String({ description: 'The Liquid source in use' }),
  default: Type.String({ description: 'The default theme’s source' }),
  updatedAt: Nullable(Timestamp),
});
const Source = Type.Object({ source: Type.String({ maxLength: SOURCE_LIMITS.characters }) }, { additionalProperties: false });
const PreviewBody = Type.Object(
  {
    source: Type.Optional(Type.String({ maxLength: SOURCE_LIMITS.characters, description: 'A source to try instead of the saved one' })),
    language: Type.Optional(Type.Enum([...LANGUAGES])),
  },
  { additionalProperties: false },
);

/**
 * The portal's Liquid templates through the API (P11, P21): list them, read the one in use and
 * the default, replace one (refused with its line and column unless every page still renders),
 * go back to the default, and preview with sample data. Portal settings staff only.
 */
export function templatesRoutes(app: App, { portals, themes, translations }: { portals: PortalsService; themes: PortalThemes; translations: TranslationsService }): void {
  const tags = ['portals'];

  const present = (name: TemplateName, own: { source: string; updatedAt: number } | undefined) => ({
    name, custom: own !== undefined, source: own?.source ?? PortalThemes.defaultSource(name), default: PortalThemes.defaultSource(name), updatedAt: iso(own?.updatedAt ?? null),
  });

  app.get('/api/v1/portals/:id/templates', {
    config: { access: 'portal_settings' },
    schema: { tags, summary: 'Every template of the portal’s theme, its own or the default', params: Type.Object({ id: Id }, { additionalProperties: false }), response: { 200: Type.Object({ items: Type.Array(Template) }), ...problemResponses } },
  }, async (request) => {
    await portals.get(request.params.id);
    const own = await themes.sources(request.params.id);
    return { items: TEMPLATE_NAMES.map((name) => present(name, own.get(name))) };
  });

  app.get('/api/v1/portals/:id/templates/:name', {
    config: { access: 'portal_settings' },
    schema: { tags, summary: 'One template: the source in use and the default', params: Params, response: { 200: Template, ...problemResponses } },
  }, async (request) => {
    await portals.get(request.params.id);
    return present(request.params.name, (await themes.sources(request.params.id)).get(request.params.name));
  });

  app.put('/api/v1/portals/:id/templates/:name', {
    config: { access: 'portal_settings' },
    schema: {
      tags,
      summary: 'Replace a template (400 with the line and column if it does not parse, a page no longer renders, or one does too much work; the live one stays)',
      params: Params, body: Source, response: { 200: Template, ...problemResponses },
    },
  }, async (request) => {
    const portal = await portals.get(request.params.id);
    const tr = await translations.translator(portal, isLanguage(portal.language) ? portal.language : 'en');
    await themes.tryTheme(portal, request.params.name, request.body.source, tr);
    await themes.save(portal.id, request.params.name, request.body.source);
    return present(request.params.name, (await themes.sources(portal.id)).get(request.params.name));
  });

  app.delete('/api/v1/portals/:id/templates/:name', {
    config: { access: 'portal_settings' },
    schema: { tags, summary: 'Go back to the default theme’s template', params: Params, response: { 204: Type.Null(), ...problemResponses } },
  }, async (request, reply) => {
    await portals.get(request.params.id);
    await themes.save(request.params.id, request.params.name, null);
    return reply.code(204).send(null);
  });

  app.post('/api/v1/portals/:id/templates/:name/preview', {
    config: { access: 'portal_settings' },
    schema: {
      tags, summary: 'The page (or email) this template makes, with sample data, from the saved source or one to try (400 if it does not render, or does too much work)',
      params: Params, body: PreviewBody, response: { 200: Type.Object({ html: Type.String({ description: 'The rendered page, or the email’s HTML or text' }) }), ...problemResponses },
    },
  }, async (request) => {
    const portal = await portals.get(request.params.id);
    const language = request.body.language ?? (isLanguage(portal.language) ? portal.language : 'en');
    const tr = await translations.translator(portal, language);
    const theme = request.body.source === undefined ? await themes.themeFor(portal) : await themes.tryTheme(portal, request.params.name, request.body.source, tr);
    return { html: await renderSample(theme, portal, request.params.name, tr) };
  });
}
