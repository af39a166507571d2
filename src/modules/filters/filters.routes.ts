import { Type } from 'typebox';
import { problemResponses } from '../../http/common-schemas.js';
import type { App } from '../../http/types.js';
import type { AccessService } from '../access/access.service.js';
import { contactCatalogue } from '../contacts/contacts.repository.js';
import { OPERATORS, type Catalogue } from './filters.js';

const FilterProperty = Type.Object({
  property: Type.String({ description: 'The name a condition gives as `property`' }),
  label: Type.String({ description: 'What staff call the property' }),
  type: Type.Enum(['text', 'number', 'boolean', 'id']),
  choices: Type.Optional(Type.Enum(['pipelines', 'stages', 'staff', 'companies'], { description: 'For an id: the kind of record it names, whose names the app offers as values' })),
  options: Type.Optional(Type.Array(Type.Object({ value: Type.String(), label: Type.String() }), { description: 'For text with a fixed set of values: each value and its label' })),
});

function describe(catalogue: Catalogue) {
  return Object.entries(catalogue).map(([property, def]) => ({
    property,
    label: def.label,
    type: def.type,
    ...(def.choices === undefined ? {} : { choices: def.choices }),
    ...(def.options === undefined ? {} : { options: [...def.options] }),
  }));
}

/** What filter conditions may name: contact properties (active lists) and ticket properties (portal rules). */
export function filtersRoutes(app: App, { access }: { access: AccessService }): void {
  app.get('/api/v1/filter-properties/:entity', {
    config: { access: 'staff' },
    schema: {
      tags: ['filters'],
      summary: 'The properties filter conditions may name, with their labels, types and the values they take, and the operators',
      params: Type.Object({ entity: Type.Enum(['contacts', 'tickets']) }, { additionalProperties: false }),
      response: { 200: Type.Object({ items: Type.Array(FilterProperty), operators: Type.Array(Type.Enum([...OPERATORS])) }), ...problemResponses },
    },
  }, async (request) => ({
    items: describe(request.params.entity === 'contacts' ? contactCatalogue : await access.ticketCatalogue()),
    operators: [...OPERATORS],
  }));
}
