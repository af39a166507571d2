import { Context, Drop, Liquid, defaultOperators, filters as builtinFilters, toValueSync } from 'liquidjs';
import { budgetOf, type RenderBudget } from './template-limits.js';

/**
 * What compiled Liquid templates (liquid-compiler.ts) do at render time: LiquidJS 10's value
 * semantics, line for line, minus its generators. Each function mirrors one in LiquidJS's
 * dist/liquid.node.js of the same name, so the compiled page prints byte for byte what
 * `renderSync` prints. Where LiquidJS would run code the compiler cannot vouch for (a function
 * found in the data, a Drop of someone else's, a `toLiquid` hook), we throw `Bail` before doing
 * anything, and the caller renders that request with LiquidJS instead.
 */

export class Bail extends Error {}

export type Scope = Record<PropertyKey, unknown>;

/** One render's Context: the scope stack, the registers layouts use, break and continue, the budget. */
export interface State {
  /** scopes[0] takes assign and capture; loops and layouts push above it. */
  scopes: Scope[];
  env: object;
  globals: object;
  blockMode: number | undefined;
  blocks: Record<string, (out: string[]) => void>;
  blockStack: object[];
  brk: boolean;
  cont: boolean;
  /** What this render may still do (template-limits.ts): LiquidJS's renderLimit and memoryLimit. */
  budget: RenderBudget;
}

const hasOwn = (obj: object | string | number | boolean | bigint | symbol, key: PropertyKey): boolean => Object.hasOwn(obj as object, key);

// LiquidJS tests arrays with Object.prototype.toString, not Array.isArray; the two differ for an
// object whose Symbol.toStringTag is 'Array', so we use its test.
export function isArray(value: unknown): value is unknown[] {
  return Object.prototype.toString.call(value) === '[object Array]';
}

function isIterator(value: unknown): value is Generator {
  const v = value as { next?: unknown; throw?: unknown; return?: unknown } | null | undefined;
  return Boolean(v) && typeof v?.next === 'function' && typeof v.throw === 'function' && typeof v.return === 'function';
}

/** LiquidJS keeps ForloopDrop to itself; take its class from a loop so ours is the same one. */
function loopDropClass(): new (length: number, collection: string, variable: string) => Drop & { next(): void } {
  const probe = new Liquid();
  let drop: unknown;
  probe.registerFilter('probe', (v: unknown) => { drop = v; return ''; });
  probe.parseAndRenderSync('{% for i in (1..1) %}{{ forloop | probe }}{% endfor %}');
  if (!(drop instanceof Drop)) throw new Error('LiquidJS forloop is not a Drop');
  return drop.constructor as new (length: number, collection: string, variable: string) => Drop & { next(): void };
}
export const ForloopDrop = loopDropClass();

/** `nil`, `empty` and `blank`, the very objects LiquidJS's parser puts in templates. */
export const literalDrops: ReadonlySet<unknown> = new Set(['nil', 'empty', 'blank'].map((word) => {
  const [output] = new Liquid().parse(`{{ ${word} }}`) as unknown as [{ value: { initial: { postfix: [{ content: unknown }] } } }];
  return output.value.initial.postfix[0].content;
}));

/** A Drop we can read as LiquidJS does; any other is someone's code, so LiquidJS renders it. */
export function guard(value: unknown): unknown {
  if (value instanceof Drop && !(value instanceof ForloopDrop) && !literalDrops.has(value)) throw new Bail();
  return value;
}

export function toValue(value: unknown): unknown {
  return value instanceof Drop && typeof value.valueOf === 'function' ? value.valueOf() : value;
}

export function stringify(value: unknown): string {
  const v = toValue(value);
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '';
  if (isArray(v)) return v.map(stringify).join('');
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- LiquidJS prints objects as String() does
  return String(v);
}

const escapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' };
const escapable = /[&<>"']/;

function escapeString(s: string): string {
  return escapable.test(s) ? s.replace(/&|<|>|"|'/g, (m) => escapes[m] ?? m) : s;
}

/** What the `escape` filter prints, uncounted (the preview banner's text). */
export function escape(value: unknown): string {
  return escapeString(stringify(value));
}

/** The built-in `escape` filter (and `outputEscape: 'escape'`): it counts what it escapes as memory. */
export function escapeCounted(budget: RenderBudget, value: unknown): string {
  const s = stringify(value);
  budget.use(s.length);
  return escapeString(s);
}

/** The theme's outputEscape: every `{{ }}` escaped, counted as output rather than as memory. */
export function escapePrinted(budget: RenderBudget, value: unknown): string {
  const s = stringify(value);
  budget.write(s.length);
  return escapeString(s);
}

/**
 * The theme's `outputEscape` for LiquidJS: the `escape` filter's output, counted as output (what
 * a page prints is bounded by the output limit; the memory limit is for what templates build).
 */
export function printEscape(this: { context: { memoryLimit: unknown } }, value: unknown): string {
  const budget = budgetOf(this.context);
  return budget === undefined ? escape(value) : escapePrinted(budget, value);
}

export function isFalsy(value: unknown): boolean {
  const v = toValue(value);
  return v === false || v === undefined || v === null;
}

function readArrayElement(arr: unknown[], index: number): unknown {
  const i = index < 0 ? arr.length + index : index;
  return hasOwn(arr, i) ? arr[i] : undefined;
}

function readSize(obj: object | string | number | boolean | bigint | symbol): unknown {
  // LiquidJS reads an inherited `size` here, despite ownPropertyOnly; so do we.
  const size = (obj as Scope)['size'];
  if (hasOwn(obj, 'size') || size !== undefined) return size;
  if (isArray(obj) || typeof obj === 'string') return obj.length;
  if (typeof obj === 'object') return Object.keys(obj).length;
  return undefined;
}

/** Context.readProperty with ownPropertyOnly: the one way a template reads data. */
export function readProperty(obj: unknown, key: unknown): unknown {
  if (obj === null || obj === undefined) return obj;
  if (typeof (obj as { toLiquid?: unknown }).toLiquid === 'function') throw new Bail();
  if (typeof key === 'number' && isArray(obj)) return guard(readArrayElement(obj, key));
  const k = key as PropertyKey;
  let value: unknown;
  if (obj instanceof Drop) {
    guard(obj);
    value = (obj as unknown as Scope)[k];
    // Drop.liquidMethodMissing, which none of the Drops guard() lets through overrides.
    if (value === undefined) return undefined;
    if (typeof value === 'function') {
      if (!(obj instanceof ForloopDrop)) throw new Bail();
      return guard((value as (this: unknown) => unknown).call(obj));
    }
  } else {
    value = hasOwn(obj, k) ? (obj as Scope)[k] : undefined;
    if (typeof value === 'function') throw new Bail();
  }
  if (key === 'size') return guard(readSize(obj));
  if (key === 'first') return guard(isArray(obj) ? readArrayElement(obj, 0) : hasOwn(obj, 'first') ? (obj as Scope)['first'] : undefined);
  if (key === 'last') return guard(isArray(obj) ? readArrayElement(obj, -1) : hasOwn(obj, 'last') ? (obj as Scope)['last'] : undefined);
  return guard(value);
}

/** Context.findScope then readProperty: the innermost scope that has the name, else the data. */
export function lookupRoot(s: State, key: unknown): unknown {
  const k = key as PropertyKey;
  const scopes = s.scopes;
  for (let i = scopes.length - 1; i >= 0; i--) {
    const scope = scopes[i] as Scope;
    if (k in scope) return readProperty(scope, key);
  }
  return readProperty(k in s.env ? s.env : s.globals, key);
}

/** What `{% for %}` iterates: LiquidJS's toEnumerable. */
export function toEnumerable(value: unknown): unknown[] {
  const v = toValue(value);
  if (isArray(v)) return v;
  if (typeof v === 'string' && v.length > 0) return [v];
  if (v !== null && (typeof v === 'object' || typeof v === 'function')) {
    if (Symbol.iterator in v) return Array.from(v as Iterable<unknown>);
    return Object.keys(v).map((key) => [key, (v as Scope)[key]]);
  }
  return [];
}

/** evalRangeToken: LiquidJS charges the range's length to the memory limit before making it. */
export function range(budget: RenderBudget, low: unknown, high: unknown): number[] {
  budget.use((high as number) - (low as number) + 1);
  const out: number[] = [];
  // Unary plus, as LiquidJS: unlike Number() it throws on a BigInt.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-conversion
  const stop = +(high as number) + 1;
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-conversion
  for (let i = +(low as number); i < stop; i++) out.push(i);
  return out;
}

// The comparisons LiquidJS makes without its generators when both sides are plain values; for
// anything else (arrays, Drops such as `empty`) we run LiquidJS's own operator.
function isPrimitive(v: unknown): boolean {
  return v === null || (typeof v !== 'object' && typeof v !== 'function');
}
function viaLiquid(op: string, l: unknown, r: unknown): boolean {
  const impl = (defaultOperators as Record<string, (l: unknown, r: unknown) => unknown>)[op];
  if (impl === undefined) throw new Error(`no operator ${op}`);
  return toValueSync(impl(l, r)) as boolean;
}

export function equals(l: unknown, r: unknown): boolean {
  return isPrimitive(l) && isPrimitive(r) ? l === r : viaLiquid('==', l, r);
}

/** What comparing or searching a value costs, in characters: a list item counts as a step's worth. */
function weight(v: unknown): number {
  return typeof v === 'string' ? v.length : Array.isArray(v) ? v.length * 256 : 0;
}

/**
 * Comparing long texts or searching long lists is work that no step counts: the compiled path
 * weighs it, so that the clock is read before such work repeats (LiquidJS reads it every step).
 */
export function weighOperands(budget: RenderBudget, l: unknown, r: unknown): void {
  budget.weigh(weight(l) + weight(r));
}

export type BinaryOperator = (l: unknown, r: unknown) => unknown;
export const operators: Record<string, BinaryOperator> = {
  '==': equals,
  '!=': (l, r) => !equals(l, r),
  '>': (l, r) => (isPrimitive(l) && isPrimitive(r) ? (l as number) > (r as number) : viaLiquid('>', l, r)),
  '<': (l, r) => (isPrimitive(l) && isPrimitive(r) ? (l as number) < (r as number) : viaLiquid('<', l, r)),
  '>=': (l, r) => (isPrimitive(l) && isPrimitive(r) ? (l as number) >= (r as number) : viaLiquid('>=', l, r)),
  '<=': (l, r) => (isPrimitive(l) && isPrimitive(r) ? (l as number) <= (r as number) : viaLiquid('<=', l, r)),
  contains: (l, r) => (typeof l === 'string' && isPrimitive(r) ? l.indexOf(r as string) > -1 : viaLiquid('contains', l, r)),
  // Both sides are already evaluated: LiquidJS's and/or do not short-circuit evaluation.
  and: (l, r) => !isFalsy(toValue(l)) && !isFalsy(toValue(r)),
  or: (l, r) => !isFalsy(toValue(l)) || !isFalsy(toValue(r)),
};

/**
 * Built-in filters we call directly: their handlers read nothing of the render's own scopes
 * (only options, the memory limit, and the data they are given), so a Context made once at
 * boot serves them exactly as a per-render one would. The *_exp filters evaluate expressions
 * against the render's scopes, `sample` is random: those templates stay with LiquidJS.
 */
export const SUPPORTED_FILTERS: ReadonlySet<string> = new Set([
  'escape', 'xml_escape', 'escape_once', 'newline_to_br', 'strip_html',
  'abs', 'at_least', 'at_most', 'ceil', 'divided_by', 'floor', 'minus', 'plus', 'modulo', 'times', 'round',
  'url_decode', 'url_encode', 'cgi_escape', 'uri_escape', 'slugify',
  'join', 'last', 'first', 'reverse', 'sort', 'sort_natural', 'size', 'map', 'sum', 'compact', 'concat',
  'push', 'unshift', 'pop', 'shift', 'slice', 'where', 'reject', 'group_by', 'has', 'find_index', 'find', 'uniq',
  'date', 'date_to_xmlschema', 'date_to_rfc822', 'date_to_string', 'date_to_long_string',
  'append', 'prepend', 'lstrip', 'downcase', 'upcase', 'remove', 'remove_first', 'remove_last', 'rstrip',
  'split', 'strip', 'strip_newlines', 'squish', 'capitalize', 'replace', 'replace_first', 'replace_last',
  'truncate', 'truncatewords', 'normalize_whitespace', 'number_of_words', 'array_to_sentence_string',
  'base64_encode', 'base64_decode', 'default', 'raw', 'jsonify', 'to_integer', 'json', 'inspect',
]);

export type FilterHandler = (this: unknown, value: unknown, ...args: unknown[]) => unknown;

/** The built-in handler of `name`, if it is one we support. */
export function builtinFilter(name: string): FilterHandler | undefined {
  if (!SUPPORTED_FILTERS.has(name)) return undefined;
  const impl = (builtinFilters as Record<string, unknown>)[name];
  if (typeof impl === 'function') return impl as FilterHandler;
  const handler = (impl as { handler?: unknown } | undefined)?.handler;
  return typeof handler === 'function' ? (handler as FilterHandler) : undefined;
}

export interface FilterThis {
  context: Context;
  token: unknown;
  liquid: Liquid;
}

/** Filter.render once its arguments are evaluated: the handler, then any generator it returned. */
export function callFilter(handler: FilterHandler, self: FilterThis, value: unknown, args: unknown[]): unknown {
  const result = handler.apply(self, [value, ...args]);
  return guard(isIterator(result) ? toValueSync(result) : result);
}

/**
 * A filter of ours that reads the render's data (the env given to render), such as the theme's
 * `t`, which needs the page's translator. Registered on LiquidJS as a handler reading
 * `this.context.environments`, and known to the compiler, which hands it the same env.
 */
export type EnvFilter = (env: object, value: unknown, args: unknown[]) => unknown;
const envFilters = new WeakMap<object, EnvFilter>();

export function registerEnvFilter(liquid: Liquid, name: string, filter: EnvFilter): void {
  const handler = function (this: FilterThis, value: unknown, ...args: unknown[]): unknown {
    return filter(this.context.environments, value, args);
  };
  envFilters.set(handler, filter);
  liquid.registerFilter(name, handler);
}

/** The EnvFilter behind a registered handler, if it is one. */
export function envFilterOf(handler: unknown): EnvFilter | undefined {
  return typeof handler === 'function' ? envFilters.get(handler) : undefined;
}
