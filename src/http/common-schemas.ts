import { Type, type Static, type TSchema, type TUnsafe } from 'typebox';

/** The one error format: RFC 9457 problem details with a stable `code`. */
export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    code: Type.String(),
    detail: Type.Optional(Type.String()),
    instance: Type.Optional(Type.String()),
    requestId: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
  },
  { description: 'An error, as application/problem+json (RFC 9457).' },
);
export type ProblemBody = Static<typeof Problem>;

/** Integer ids as they appear in paths. Anything else answers 400, not a database error. */
export const Id = Type.Integer({ minimum: 1, maximum: 2147483647 });
export const IdParams = Type.Object({ id: Id }, { additionalProperties: false });
export type IdParamsT = Static<typeof IdParams>;

export const Timestamp = Type.String({ format: 'date-time' });
/**
 * T or null. Written as `type: [t, "null"]` (or an enum with null) rather than anyOf where it
 * can be: the response serialiser writes those directly, while an anyOf makes it validate
 * every value against each branch, on every row.
 */
export function Nullable<T extends TSchema>(schema: T): TUnsafe<Static<T> | null> {
  const s = schema as unknown as { type?: unknown; enum?: unknown[] };
  if (Array.isArray(s.enum)) return Type.Unsafe<Static<T> | null>({ ...schema, enum: [...s.enum, null] });
  if (typeof s.type === 'string') return Type.Unsafe<Static<T> | null>({ ...schema, type: [s.type, 'null'] });
  return Type.Unsafe<Static<T> | null>(Type.Union([schema, Type.Null()]));
}

export const NullableTimestamp = Nullable(Timestamp);

/** A short single-line text: no control characters (so no header or log injection). */
export function Line(options: { minLength?: number; maxLength: number }) {
  return Type.String({ minLength: options.minLength ?? 1, maxLength: options.maxLength, pattern: '^[^\\u0000-\\u001f\\u007f]*$' });
}

export const Email = Type.String({ format: 'email', minLength: 3, maxLength: 254 });

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 25 })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
};

export function Page<T extends TSchema>(item: T) {
  return Type.Object({
    items: Type.Array(item),
    nextCursor: Nullable(Type.String({ description: 'Pass as `cursor` for the next page; null on the last page.' })),
  });
}

/** Standard error answers every route may give, for the OpenAPI document. */
export const problemResponses = {
  400: Problem,
  401: Problem,
  403: Problem,
  404: Problem,
  409: Problem,
  413: Problem,
  415: Problem,
  422: Problem,
  429: Problem,
} as const;

export function iso(ms: number): string;
export function iso(ms: number | null): string | null;
export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
