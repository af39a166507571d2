import { Ajv, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifyInstance } from 'fastify';

// ajv-formats is CommonJS with a default export; under NodeNext it arrives as the module object.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

const common: Options = {
  allErrors: true,
  removeAdditional: false, // unknown fields are refused, not silently dropped
  useDefaults: true,
  strict: false,
  allowUnionTypes: true,
  verbose: true, // each issue carries its schema: the field's title and hint (http/field-messages.ts)
};

/**
 * Bodies are validated strictly (a number is not a string); path, query and headers arrive as
 * text, so there types are coerced ("25" -> 25) before validation.
 */
export function registerValidation(app: FastifyInstance): void {
  const strict = addFormats(new Ajv({ ...common, coerceTypes: false }));
  const coercing = addFormats(new Ajv({ ...common, coerceTypes: 'array' }));
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? strict : coercing).compile(schema),
  );
}
