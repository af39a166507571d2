import { sql, type Expression, type RawBuilder, type SqlBool } from 'kysely';
import { Type, type Static } from 'typebox';
import { errors, type FieldError } from '../../errors.js';
import { readable } from '../../http/field-messages.js';

/**
 * Filter conditions on a record's properties, as used by active contact lists (C1) and, later,
 * the portal's ticket filter rules (P15): is / is not / is any of / is none of / is known /
 * is unknown, and for text contains / starts with. Each entity declares its properties once
 * (a catalogue); the same catalogue validates the conditions and compiles them to SQL.
 */
export const OPERATORS = ['is', 'is_not', 'is_any_of', 'is_none_of', 'is_known', 'is_unknown', 'contains', 'starts_with'] as const;
export type Operator = (typeof OPERATORS)[number];

const Scalar = Type.Unsafe<string | number | boolean>({ type: ['string', 'number', 'boolean'], maxLength: 500 });

export const Condition = Type.Object(
  {
    property: Type.String({ minLength: 1, maxLength: 100 }),
    operator: Type.Enum(['is', 'is_not', 'is_any_of', 'is_none_of', 'is_known', 'is_unknown', 'contains', 'starts_with']),
    value: Type.Optional(Scalar),
    values: Type.Optional(Type.Array(Scalar, { minItems: 1, maxItems: 500 })),
  },
  { additionalProperties: false },
);
export type ConditionT = Static<typeof Condition>;
export const Conditions = Type.Array(Condition, { maxItems: 50 });

export type PropertyType = 'text' | 'number' | 'boolean' | 'id';

export interface PropertyDef {
  type: PropertyType;
  /** The SQL for the property's value on one row. */
  ref: RawBuilder<unknown>;
  /** For text compared case-insensitively (emails): values are lower-cased before comparing. */
  lowerCase?: boolean;
  /**
   * For a property that is a set (a contact's companies): the condition "the set holds one of
   * these"; is/is_any_of use it, is_not/is_none_of negate it, is_known/is_unknown test emptiness.
   */
  membership?: (values: unknown[]) => Expression<SqlBool>;
  anyMembership?: Expression<SqlBool>;
}

export type Catalogue = Record<string, PropertyDef>;

function fits(def: PropertyDef, value: unknown): boolean {
  switch (def.type) {
    case 'text':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'id':
      return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
    case 'boolean':
      return typeof value === 'boolean';
  }
}

/** Checks conditions against a catalogue; answers 422 naming each bad condition. */
export function validateConditions(catalogue: Catalogue, conditions: ConditionT[], basePath: string): void {
  const problems: FieldError[] = [];
  conditions.forEach((c, i) => {
    const path = `${basePath}/${i}`;
    const def = catalogue[c.property];
    if (def === undefined) {
      problems.push({ path: `${path}/property`, message: `Choose a property lists can filter on: ${Object.keys(catalogue).map(readable).join(', ')}.` });
      return;
    }
    const needsValue = c.operator === 'is' || c.operator === 'is_not' || c.operator === 'contains' || c.operator === 'starts_with';
    const needsValues = c.operator === 'is_any_of' || c.operator === 'is_none_of';
    if (needsValue && (c.value === undefined || c.values !== undefined)) problems.push({ path, message: `“${readable(c.operator)}” compares with one value: give one.` });
    if (needsValues && (c.values === undefined || c.value !== undefined)) problems.push({ path, message: `“${readable(c.operator)}” compares with a list of values: give the list.` });
    if (!needsValue && !needsValues && (c.value !== undefined || c.values !== undefined)) problems.push({ path, message: `“${readable(c.operator)}” compares with nothing: give no value.` });
    if ((c.operator === 'contains' || c.operator === 'starts_with') && def.type !== 'text') {
      problems.push({ path: `${path}/operator`, message: `“${readable(c.operator)}” works on text only: choose another comparison.` });
    }
    const given = c.value !== undefined ? [c.value] : (c.values ?? []);
    given.forEach((v) => {
      if (!fits(def, v)) problems.push({ path: `${path}/${c.value !== undefined ? 'value' : 'values'}`, message: `Enter ${def.type === 'id' ? 'a whole number of at least 1' : def.type === 'boolean' ? 'true or false' : def.type === 'number' ? 'a number' : 'text'}.` });
    });
  });
  if (problems.length > 0) throw errors.unprocessable('INVALID_FILTER', 'A filter condition is not valid.', problems);
}

/** LIKE's wildcards and its escape character, escaped with a backslash (`escape '\\'`). */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (ch) => '\\' + ch);
}

function norm(def: PropertyDef, v: unknown): unknown {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (def.lowerCase === true && typeof v === 'string') return v.toLowerCase();
  return v;
}

function compileOne(def: PropertyDef, c: ConditionT): Expression<SqlBool> {
  const values = (c.values ?? (c.value === undefined ? [] : [c.value])).map((v) => norm(def, v));
  if (def.membership !== undefined && def.anyMembership !== undefined) {
    switch (c.operator) {
      case 'is':
      case 'is_any_of':
        return def.membership(values);
      case 'is_not':
      case 'is_none_of':
        return sql<SqlBool>`not (${def.membership(values)})`;
      case 'is_known':
        return def.anyMembership;
      case 'is_unknown':
        return sql<SqlBool>`not (${def.anyMembership})`;
      default:
        return sql<SqlBool>`1 = 0`;
    }
  }
  const ref = def.ref;
  const list = sql.join(values.map((v) => sql`${v}`));
  switch (c.operator) {
    case 'is':
    case 'is_any_of':
      return sql<SqlBool>`${ref} in (${list})`;
    // "is not" includes records where the property is empty, as a person would expect.
    case 'is_not':
    case 'is_none_of':
      return sql<SqlBool>`(${ref} is null or ${ref} not in (${list}))`;
    case 'is_known':
      return def.type === 'text' ? sql<SqlBool>`(${ref} is not null and ${ref} <> '')` : sql<SqlBool>`${ref} is not null`;
    case 'is_unknown':
      return def.type === 'text' ? sql<SqlBool>`(${ref} is null or ${ref} = '')` : sql<SqlBool>`${ref} is null`;
    case 'contains':
      return sql<SqlBool>`lower(${ref}) like ${'%' + escapeLike(String(values[0]).toLowerCase()) + '%'} escape '\\'`;
    case 'starts_with':
      return sql<SqlBool>`lower(${ref}) like ${escapeLike(String(values[0]).toLowerCase()) + '%'} escape '\\'`;
  }
}

/** All conditions must hold. An empty list matches everything. */
export function compileConditions(catalogue: Catalogue, conditions: ConditionT[]): Expression<SqlBool> {
  if (conditions.length === 0) return sql<SqlBool>`1 = 1`;
  const parts = conditions.map((c) => {
    const def = catalogue[c.property];
    if (def === undefined) throw errors.unprocessable('INVALID_FILTER', `Unknown filter property ${c.property}.`);
    return compileOne(def, c);
  });
  return sql<SqlBool>`(${sql.join(parts, sql` and `)})`;
}
