import { Type, type Static } from 'typebox';
import { Id, Line, Timestamp } from '../../http/common-schemas.js';
import { Translations } from '../i18n/admin-text.js';

export const FIELD_TYPES = ['text', 'textarea', 'choice', 'file'] as const;

/** A ticket property a field fills: a fixed one, a custom one (`properties.<key>`), or none (its answer goes into the message). */
const Maps = Type.Union([
  Type.Enum(['subject', 'description', 'priority', 'category']),
  Type.String({ pattern: '^properties\\.[a-z][a-z0-9_]{0,62}$', 'x-hint': 'Choose subject, description, priority or category, or a custom property as properties. followed by its key, like properties.plan.' }),
  Type.Null(),
]);

const FieldKey = Type.String({ pattern: '^[a-z][a-z0-9_]{0,39}$', 'x-hint': 'Start with a lower-case letter, then use lower-case letters, digits and underscores, at most 40 in all, like plan or region2.' });

export const FormField = Type.Object(
  {
    key: FieldKey,
    label: Line({ maxLength: 200 }),
    type: Type.Enum([...FIELD_TYPES], { description: 'text: one line; textarea: long text; choice: one of options; file: attachments' }),
    required: Type.Boolean(),
    options: Type.Optional(Type.Array(Line({ maxLength: 200 }), { minItems: 1, maxItems: 50, uniqueItems: true })),
    maps: Maps,
    help: Type.Optional(Line({ maxLength: 300 })),
  },
  { additionalProperties: false },
);
export type FormFieldT = Static<typeof FormField>;

/** One field's words in another language; the options in the order of the field's own. */
const FieldTranslation = Type.Object(
  {
    label: Type.Optional(Line({ minLength: 0, maxLength: 200 })),
    help: Type.Optional(Line({ minLength: 0, maxLength: 300 })),
    options: Type.Optional(Type.Array(Line({ minLength: 0, maxLength: 200 }), { maxItems: 50, description: 'What each option says, in the order of the field’s options; the answer is still saved as the option as written' })),
  },
  { additionalProperties: false },
);
const FormTranslations = Translations(
  Type.Record(FieldKey, FieldTranslation, { maxProperties: 30, title: 'Fields', description: 'By the key of a field of this form' }),
  'What the form’s fields say (label, help, options), by field',
);
export type FormTranslationsT = Static<typeof FormTranslations>;

const Fields = Type.Array(FormField, { minItems: 1, maxItems: 30, description: 'In order; exactly one required text field maps to the subject' });

export const Form = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  inboxId: Type.Integer(),
  fields: Type.Array(FormField),
  translations: FormTranslations,
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

export const FormCreate = Type.Object({ name: Line({ maxLength: 120 }), inboxId: Id, fields: Fields, translations: Type.Optional(FormTranslations) }, { additionalProperties: false });
export const FormUpdate = Type.Object(
  { name: Type.Optional(Line({ maxLength: 120 })), inboxId: Type.Optional(Id), fields: Type.Optional(Fields), translations: Type.Optional(FormTranslations) },
  { additionalProperties: false, minProperties: 1 },
);
