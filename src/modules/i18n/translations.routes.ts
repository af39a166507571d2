import { Type } from 'typebox';
import { Id, problemResponses } from '../../http/common-schemas.js';
import type { App } from '../../http/types.js';
import type { PortalsService } from '../portal/portals.service.js';
import { catalogue, LANGUAGE_NAMES, LANGUAGES } from './catalogue.js';
import type { TranslationsService } from './translations.service.js';

const Language = Type.Enum([...LANGUAGES], { 'x-enum-names': LANGUAGE_NAMES, description: 'A language Portico has a catalogue for' });
const MessagesParams = Type.Object({ id: Id, language: Language }, { additionalProperties: false });
const MessageKey = Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9.]+$', 'x-hint': 'Use a message key as the list gives it, like tickets.heading.' });

const Messages = Type.Object({
  language: Language,
  items: Type.Array(Type.Object({
    key: Type.String(),
    default: Type.String({ description: 'The catalogue’s message in this language (ICU MessageFormat)' }),
    override: Type.Union([Type.String(), Type.Null()], { description: 'The portal’s own message, if it has one' }),
  })),
});

const MessagesUpdate = Type.Object(
  {
    messages: Type.Record(MessageKey, Type.Union([Type.String({ maxLength: 2000 }), Type.Null()]), {
      minProperties: 1,
      maxProperties: 500,
      description: 'By key: the portal’s message in ICU MessageFormat, or null to go back to the catalogue’s',
    }),
  },
  { additionalProperties: false },
);

/** The portal's own wording of any customer-facing message, per language (X1): portal settings staff only. */
export function translationsRoutes(app: App, { translations, portals }: { translations: TranslationsService; portals: PortalsService }): void {
  const tags = ['portals'];

  app.get('/api/v1/languages', {
    config: { access: 'portal_settings' },
    schema: {
      tags, summary: 'The languages a portal may speak, each named in itself',
      response: { 200: Type.Object({ items: Type.Array(Type.Object({ code: Language, name: Type.String() })) }), ...problemResponses },
    },
  }, () => ({ items: LANGUAGES.map((code) => ({ code, name: catalogue(code).source.get('language.name') ?? code })) }));

  app.get('/api/v1/portals/:id/messages/:language', {
    config: { access: 'portal_settings' },
    schema: { tags, summary: 'Every customer-facing message of a language, with the portal’s overrides', params: MessagesParams, response: { 200: Messages, ...problemResponses } },
  }, async (request) => {
    await portals.get(request.params.id);
    return { language: request.params.language, items: await translations.list(request.params.id, request.params.language) };
  });

  app.patch('/api/v1/portals/:id/messages/:language', {
    config: { access: 'portal_settings' },
    schema: {
      tags,
      summary: 'Override messages of a language on this portal, or remove overrides (null); all or none are saved',
      description: 'Each message must be valid ICU MessageFormat and may use only the values its catalogue message is given.',
      params: MessagesParams, body: MessagesUpdate, response: { 200: Messages, ...problemResponses },
    },
  }, async (request) => {
    await translations.update(request.params.id, request.params.language, request.body.messages);
    return { language: request.params.language, items: await translations.list(request.params.id, request.params.language) };
  });
}
