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
    errors: Type.Optional(Type.Array(Type.Object({
      path: Type.String({ description: 'Where: a JSON pointer into the request, such as /body/slug. Stable: match on it, not on the words.' }),
      label: Type.String({ description: 'The field’s name in words, such as “Idle timeout”.' }),
      message: Type.String({ description: 'What to do, in a sentence to show at the field, such as “Enter at least 100 characters.”' }),
    }))),
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
  return Type.String({ minLength: options.minLength ?? 1, maxLength: options.maxLength, pattern: '^[^\\u0000-\\u001f\\u007f]*$', 'x-hint': 'Keep this to one line, without tabs or other control characters.' });
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

const pad2 = (n: number) => (n < 10 ? '0' : '') + String(n);
const pad3 = (n: number) => (n < 10 ? '00' : n < 100 ? '0' : '') + String(n);

/**
 * Milliseconds since the epoch as an ISO 8601 UTC string, the same text as
 * Date#toISOString, without making a Date: lists format four times a
 * row, and this runs on every one. Days to civil date after Howard Hinnant's algorithm.
 */
function formatIso(ms: number): string {
  const days = Math.floor(ms / 86_400_000);
  let rest = ms - days * 86_400_000;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  const millis = rest - seconds * 1000;
  return `${String(year).padStart(4, '0')}-${pad2(month)}-${pad2(day)}T${pad2(hours)}:${pad2(minutes)}:${pad2(seconds)}.${pad3(millis)}Z`;
}

/** The fast path covers 1970 to 9999; anything else takes the Date route. */
const FAST_MAX = 253_402_300_799_999;

export function iso(ms: number): string;
export function iso(ms: number | null): string | null;
export function iso(ms: number | null): string | null {
  if (ms === null) return null;
  return Number.isSafeInteger(ms) && ms >= 0 && ms <= FAST_MAX ? formatIso(ms) : new Date(ms).toISOString();
}
