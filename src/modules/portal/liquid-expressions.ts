import { TokenKind, filters as builtinFilters, type Context, type Liquid } from 'liquidjs';
import {
  builtinFilter, callFilter, envFilterOf, escapeCounted, escapePrinted, guard, isFalsy, lookupRoot, operators, printEscape, range, readProperty, toValue,
  weighOperands, type FilterHandler, type FilterThis, type Scope, type State,
} from './liquid-runtime.js';
import { relocate } from './template-limits.js';

/**
 * The expression half of the Liquid compiler (liquid-compiler.ts has the tags): values, property
 * reads, operators, filters, each compiled once to a closure over the state of one render.
 */

/** The template uses something the compiler does not mirror: LiquidJS renders it. */
export class Unsupported extends Error {}

export type Eval = (s: State) => unknown;

// The internals we read, as LiquidJS 10.30 lays them out (dist/liquid.node.js).
export interface TokenView { kind: TokenKind; content?: unknown; getText(): string }
interface AccessView extends TokenView { variable: TokenView | undefined; props: TokenView[] }
interface RangeView extends TokenView { lhs: TokenView; rhs: TokenView }
interface OperatorView extends TokenView { operator: string }
type FilterArgView = TokenView | [string, TokenView | undefined];
interface FilterView { name: string; args: FilterArgView[]; raw: boolean; handler: unknown; token: unknown }
export interface ValueView { initial: { postfix: TokenView[] }; filters: FilterView[] }
export interface HashView { hash: Record<string, TokenView | undefined> }

/** Where a reference sits: what LiquidJS would have pushed on the scope stack that we do not. */
export interface Lexical {
  /** Inside a block body, where LiquidJS binds `block` (block.super). */
  inBlock: boolean;
  /** In a for tag's arguments, where LiquidJS binds `continue` (offset: continue). */
  inForArgs: boolean;
}

export interface Unit {
  liquid: Liquid;
  /** What filters see as `this.context`: made once, as they use none of the render's scopes. */
  context: Context;
  /** Layouts being compiled, to refuse one that includes itself. */
  layouts: Set<unknown>;
}

const OPERATOR_ARITY: Record<string, number> = { '==': 2, '!=': 2, '>': 2, '<': 2, '>=': 2, '<=': 2, contains: 2, and: 2, or: 2, not: 1 };

export function unsupported(what: string): never {
  throw new Unsupported(what);
}

export function compileToken(token: TokenView | undefined, unit: Unit, lex: Lexical): Eval {
  if (token === undefined) return () => undefined;
  if ('content' in token) {
    const constant = token.content;
    return () => constant;
  }
  if (token.kind === TokenKind.PropertyAccess) return compileAccess(token as unknown as AccessView, unit, lex);
  if (token.kind === TokenKind.Range) {
    const { lhs, rhs } = token as unknown as RangeView;
    const low = compileToken(lhs, unit, lex);
    const high = compileToken(rhs, unit, lex);
    return (s) => range(s.budget, toValue(low(s)), toValue(high(s)));
  }
  return unsupported(`value ${token.getText()}`);
}

/** A property key: constant when the template spells it out, else evaluated (and unwrapped). */
function compileKey(token: TokenView, unit: Unit, lex: Lexical): { constant: true; key: unknown } | { constant: false; key: Eval } {
  if ('content' in token) return { constant: true, key: toValue(token.content) };
  const ev = compileToken(token, unit, lex);
  return { constant: false, key: (s) => toValue(ev(s)) };
}

/** The root of an access without a variable, looked up in the scopes, then the data: refuses names LiquidJS binds itself. */
function checkRoot(root: ReturnType<typeof compileKey> | undefined, lex: Lexical): void {
  if (root === undefined) unsupported('empty property access');
  if (!root.constant) {
    if (lex.inBlock || lex.inForArgs) unsupported('computed variable name where LiquidJS adds a scope');
    return;
  }
  if (lex.inBlock && root.key === 'block') unsupported('block.super');
  if (lex.inForArgs && root.key === 'continue') unsupported('offset: continue');
}

/**
 * evalPropertyAccessToken: every key first, in order, then the variable (a range or a literal)
 * or the root name, then each read. A limit reached while evaluating the variable is given this
 * access's position, as LiquidJS wraps it (UndefinedVariableError) there.
 */
function compileAccess(token: AccessView, unit: Unit, lex: Lexical): Eval {
  const keys = token.props.map((p) => compileKey(p, unit, lex));
  const variable = token.variable === undefined ? undefined : compileToken(token.variable, unit, lex);
  if (variable === undefined) checkRoot(keys[0], lex);
  const rest = variable === undefined ? 1 : 0;
  const located = token.variable !== undefined && !('content' in token.variable);
  if (keys.every((k) => k.constant)) {
    const path = keys.map((k) => k.key);
    const name = path[0];
    const base: Eval = variable ?? ((s) => lookupRoot(s, name));
    const reads = path.slice(rest);
    const [k1, k2] = reads;
    const ev: Eval = reads.length === 0 ? base
      : reads.length === 1 ? (s) => readProperty(base(s), k1)
      : reads.length === 2 ? (s) => readProperty(readProperty(base(s), k1), k2)
      : (s) => reads.reduce((v, k) => readProperty(v, k), base(s));
    return located ? (s) => { try { return ev(s); } catch (error) { throw relocate(error, token); } } : ev;
  }
  const evals = keys.map((k): Eval => {
    if (!k.constant) return k.key;
    const key = k.key;
    return () => key;
  });
  return (s) => {
    const values = evals.map((e) => e(s));
    try {
      let v = variable === undefined ? lookupRoot(s, values[0]) : variable(s);
      for (let i = rest; i < values.length; i++) v = readProperty(v, values[i]);
      return v;
    } catch (error) {
      throw located ? relocate(error, token) : error;
    }
  };
}

/** Expression.evaluate: LiquidJS has already ordered the tokens (postfix); we wire them up. */
function compileExpression(postfix: TokenView[], unit: Unit, lex: Lexical): Eval {
  const stack: Eval[] = [];
  for (const token of postfix) {
    if (token.kind !== TokenKind.Operator) {
      stack.push(compileToken(token, unit, lex));
      continue;
    }
    const op = (token as unknown as OperatorView).operator;
    const r = stack.pop();
    if (r === undefined) return unsupported(`operator ${op} without operands`);
    if (OPERATOR_ARITY[op] === 1) {
      stack.push((s) => isFalsy(toValue(r(s))));
      continue;
    }
    const l = stack.pop();
    const fn = operators[op];
    if (l === undefined || fn === undefined || OPERATOR_ARITY[op] !== 2) return unsupported(`operator ${op}`);
    stack.push(op === 'and' || op === 'or' ? (s) => {
      const lv = l(s);
      return fn(lv, r(s));
    } : (s) => {
      const lv = l(s);
      const rv = r(s);
      weighOperands(s.budget, lv, rv);
      return fn(lv, rv);
    });
  }
  const [only] = stack;
  if (only === undefined || stack.length !== 1) return unsupported('expression that is not one value');
  return only;
}

/** Positional arguments evaluate to their value, named ones to [name, value], as LiquidJS passes them. */
function compileFilterArgs(filter: FilterView, unit: Unit, lex: Lexical): Eval[] {
  return filter.args.map((arg): Eval => {
    if (Array.isArray(arg)) {
      const [name, token] = arg;
      const value = compileToken(token, unit, lex);
      return (s) => [name, value(s)];
    }
    return compileToken(arg, unit, lex);
  });
}

function compileFilter(filter: FilterView, unit: Unit, lex: Lexical): (s: State, v: unknown) => unknown {
  const own = envFilterOf(filter.handler);
  if (own !== undefined) {
    const ownArgs = compileFilterArgs(filter, unit, lex);
    return (s, v) => guard(own(s.env, v, ownArgs.map((a) => a(s))));
  }
  // outputEscape's filter is named "[object Function]"; we know it by its handler.
  if (filter.handler === printEscape && filter.args.length === 0) return (s, v) => escapePrinted(s.budget, v);
  const isEscape = filter.handler === builtinFilters.escape;
  const impl = isEscape ? (builtinFilters.escape as FilterHandler) : builtinFilter(filter.name);
  if (impl === undefined || filter.handler !== impl) return unsupported(`filter ${filter.name}`);
  if (isEscape && filter.args.length === 0) return (s, v) => escapeCounted(s.budget, v);
  if (filter.raw && filter.args.length === 0) return (_s, v) => v;
  const args = compileFilterArgs(filter, unit, lex);
  const self: FilterThis = { context: unit.context, token: filter.token, liquid: unit.liquid };
  return (s, v) => callFilter(impl, self, v, args.map((a) => a(s)));
}

/** Value.value: the expression, then each filter in turn. */
export function compileValue(value: ValueView, unit: Unit, lex: Lexical): Eval {
  const initial = compileExpression(value.initial.postfix, unit, lex);
  const filters = value.filters.map((f) => compileFilter(f, unit, lex));
  const [only] = filters;
  if (filters.length === 0) return initial;
  if (filters.length === 1 && only !== undefined) return (s) => only(s, initial(s));
  return (s) => filters.reduce((v, f) => f(s, v), initial(s));
}

/** Hash.render: a bare key is `true`; the object is a plain one, as LiquidJS's is. */
export function compileHash(hash: HashView, unit: Unit, lex: Lexical): (s: State) => Record<string, unknown> {
  const entries = Object.keys(hash.hash).map((key): [string, Eval] => {
    const token = hash.hash[key];
    return [key, token === undefined ? () => true : compileToken(token, unit, lex)];
  });
  return (s) => {
    const out: Record<string, unknown> = {};
    for (const [key, ev] of entries) out[key] = ev(s);
    return out;
  };
}

export function createScope(from: object): Scope {
  return Object.assign(Object.create(null) as Scope, from);
}
