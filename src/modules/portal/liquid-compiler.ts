import {
  AssignTag, BlockTag, BreakTag, CaptureTag, CaseTag, CommentTag, Context, ContinueTag, EchoTag, ForTag, IfTag,
  InlineCommentTag, LayoutTag, LiquidTag, Output, RawTag, TypeGuards, UnlessTag, defaultOperators,
  filters as builtinFilters, isFalsy as liquidIsFalsy, isTruthy as liquidIsTruthy, toValueSync, version,
  type Liquid, type Template,
} from 'liquidjs';
import {
  Unsupported, compileHash, compileToken, compileValue, createScope, unsupported,
  type Eval, type HashView, type Lexical, type TokenView, type Unit, type ValueView,
} from './liquid-expressions.js';
import {
  ForloopDrop, equals, escapeCounted, escapePrinted, isFalsy, printEscape, stringify, toEnumerable, toValue, weighOperands, type Scope, type State,
} from './liquid-runtime.js';
import { RenderBudget, TemplateLimitError, locate, renderWithLiquid, type TemplateLimits, type TimeSource } from './template-limits.js';

export { Unsupported };

/**
 * A compiler from LiquidJS's parsed templates to plain closures, built once at boot, so that
 * rendering a page is calling functions rather than stepping LiquidJS's generators. Nothing is
 * turned into source code: every closure here is written below, and a template only chooses
 * which ones are wired together.
 *
 * Whatever this file does not know (a tag or filter outside the lists below, an option other
 * than the theme's, a construct whose LiquidJS behaviour we have not mirrored) throws
 * `Unsupported`, and that template stays with LiquidJS. The shapes read here are LiquidJS 10's
 * internals (see dist/liquid.node.js); each class is matched by its exact constructor so a
 * subclass or a re-registered tag never passes for the built-in one.
 *
 * Every render carries a budget (template-limits.ts), counted exactly as LiquidJS counts it:
 * a step wherever LiquidJS checks its renderLimit (each template of a sequence, and each
 * sequence), memory wherever its filters and ranges charge it, output wherever a sequence is
 * rendered to a string of its own (capture, a layout's page, the whole render).
 */

type Render = (s: State, out: string[]) => void;

interface Node { token: TokenView; constructor: unknown }
interface LayoutView { file: unknown; currentFile: string | undefined; templates: Template[]; args: HashView }

const STORE = 1;
const OUTPUT = 0;

/**
 * Render.renderTemplates: a step for the sequence and one before each template; after each, a
 * break or continue stops the rest. A limit reached inside a template is given its position.
 */
function compileSequence(templates: Template[], unit: Unit, lex: Lexical): Render {
  const renders = templates.map((t) => compileNode(t, unit, lex));
  const tokens = templates.map((t) => (t as unknown as Node).token);
  const count = renders.length;
  return (s, out) => {
    const budget = s.budget;
    budget.step();
    for (let i = 0; i < count; i++) {
      budget.step();
      try {
        (renders[i] as Render)(s, out);
      } catch (error) {
        throw locate(error, tokens[i]);
      }
      if (s.brk || s.cont) return;
    }
  };
}

function compileNode(template: Template, unit: Unit, lex: Lexical): Render {
  const node = template as unknown as Node;
  const kind = node.constructor;
  if (kind === Output) {
    const value = (node as unknown as { value: ValueView }).value;
    const ev = compileValue(value, unit, lex);
    const last = value.filters[value.filters.length - 1];
    if (last?.handler === builtinFilters.escape || last?.handler === printEscape) return (s, out) => { out.push(ev(s) as string); };
    return (s, out) => { out.push(stringify(toValue(ev(s)))); };
  }
  if (TypeGuards.isHTMLToken(node.token)) {
    const str = (node as unknown as { str: unknown }).str;
    if (typeof str !== 'string') return unsupported('HTML without text');
    return (_s, out) => { out.push(str); };
  }
  if (kind === IfTag) return compileIf(node as unknown as IfTag, unit, lex);
  if (kind === UnlessTag) return compileUnless(node as unknown as UnlessTag, unit, lex);
  if (kind === ForTag) return compileFor(node as unknown as ForTag, unit, lex);
  if (kind === CaseTag) return compileCase(node as unknown as CaseTag, unit, lex);
  if (kind === AssignTag) {
    const { key, value } = node as unknown as { key: string; value: ValueView };
    const ev = compileValue(value, unit, lex);
    return (s) => { (s.scopes[0] as Scope)[key] = ev(s); };
  }
  if (kind === CaptureTag) {
    const { variable, templates } = node as unknown as CaptureTag;
    const body = compileSequence(templates, unit, lex);
    return (s) => {
      const buffer: string[] = [];
      body(s, buffer);
      const html = buffer.join('');
      s.budget.write(html.length);
      (s.scopes[0] as Scope)[variable] = html;
    };
  }
  if (kind === CommentTag || kind === InlineCommentTag) return () => undefined;
  if (kind === RawTag) {
    const text = (node as unknown as { tokens: TokenView[] }).tokens.map((t) => t.getText()).join('');
    return (_s, out) => { if (text !== '') out.push(text); };
  }
  if (kind === EchoTag) return compileEcho((node as unknown as { value?: ValueView }).value, unit, lex);
  if (kind === LiquidTag) return compileSequence((node as unknown as LiquidTag).templates, unit, lex);
  if (kind === BreakTag) return (s) => { s.brk = true; };
  if (kind === ContinueTag) return (s) => { s.cont = true; };
  if (kind === LayoutTag) return compileLayout(node as unknown as LayoutView, unit, lex);
  if (kind === BlockTag) return compileBlock(node as unknown as BlockTag, unit, lex);
  const name = (node as { name?: unknown }).name;
  return unsupported(`tag ${typeof name === 'string' ? name : node.token.getText()}`);
}

function compileIf(tag: IfTag, unit: Unit, lex: Lexical): Render {
  const branches = tag.branches.map((b): [Eval, Render] => [compileValue(b.value as unknown as ValueView, unit, lex), compileSequence(b.templates, unit, lex)]);
  const otherwise = compileSequence(tag.elseTemplates ?? [], unit, lex);
  return (s, out) => {
    for (const [cond, body] of branches) {
      if (!isFalsy(toValue(cond(s)))) {
        body(s, out);
        return;
      }
    }
    otherwise(s, out);
  };
}

function compileUnless(tag: UnlessTag, unit: Unit, lex: Lexical): Render {
  const branches = tag.branches.map((b): [Eval, boolean, Render] => {
    if (b.test !== liquidIsFalsy && b.test !== liquidIsTruthy) unsupported('unless test');
    return [compileValue(b.value as unknown as ValueView, unit, lex), b.test === liquidIsFalsy, compileSequence(b.templates, unit, lex)];
  });
  const otherwise = compileSequence(tag.elseTemplates, unit, lex);
  return (s, out) => {
    for (const [cond, whenFalsy, body] of branches) {
      if (isFalsy(toValue(cond(s))) === whenFalsy) {
        body(s, out);
        return;
      }
    }
    otherwise(s, out);
  };
}

function compileFor(tag: ForTag, unit: Unit, lex: Lexical): Render {
  const { variable } = tag;
  // LiquidJS would overwrite its own forloop with the item, then call item.next().
  if (variable === 'forloop') unsupported('for forloop in …');
  const collection = compileToken(tag.collection, unit, lex);
  const collectionText = (tag.collection as unknown as TokenView).getText();
  const hash = compileHash(tag.hash, unit, { ...lex, inForArgs: true });
  const body = compileSequence(tag.templates, unit, lex);
  const otherwise = compileSequence(tag.elseTemplates, unit, lex);
  return (s, out) => {
    let items = toEnumerable(collection(s));
    if (items.length === 0) {
      otherwise(s, out);
      return;
    }
    const args = hash(s);
    // LiquidJS applies them in this order whatever order the tag gives them.
    if (args['offset'] !== undefined) items = items.slice(args['offset'] as number);
    if (args['limit'] !== undefined) items = items.slice(0, args['limit'] as number);
    if (args['reversed'] !== undefined) items = [...items].reverse();
    const scope = createScope({ forloop: new ForloopDrop(items.length, collectionText, variable) });
    const loop = scope['forloop'] as InstanceType<typeof ForloopDrop>;
    s.scopes.push(scope);
    for (const item of items) {
      scope[variable] = item;
      s.cont = s.brk = false;
      body(s, out);
      if (s.brk as boolean) break;
      loop.next();
    }
    s.cont = s.brk = false;
    s.scopes.pop();
  };
}

function compileCase(tag: CaseTag, unit: Unit, lex: Lexical): Render {
  const target = compileValue(tag.value as unknown as ValueView, unit, lex);
  const branches = tag.branches.map((b): [Eval[], Render] => [b.values.map((v) => compileToken(v as unknown as TokenView, unit, lex)), compileSequence(b.templates, unit, lex)]);
  const otherwise = compileSequence(tag.elseTemplates, unit, lex);
  return (s, out) => {
    const t = toValue(target(s));
    let hit = false;
    // Every matching `when` renders, not only the first: LiquidJS's case does not stop.
    for (const [values, body] of branches) {
      for (const value of values) {
        const v = value(s);
        weighOperands(s.budget, t, v);
        if (equals(t, v)) {
          body(s, out);
          hit = true;
          break;
        }
      }
    }
    if (!hit) otherwise(s, out);
  };
}

function compileEcho(value: ValueView | undefined, unit: Unit, lex: Lexical): Render {
  if (value === undefined) return () => undefined;
  const ev = compileValue(value, unit, lex);
  const raw = value.filters[value.filters.length - 1]?.raw === true;
  const outputEscape = unit.liquid.options.outputEscape;
  if (outputEscape === undefined || raw) return (s, out) => { out.push(stringify(toValue(ev(s)))); };
  const escape = outputEscape === printEscape ? escapePrinted : escapeCounted;
  return (s, out) => { out.push(escape(s.budget, toValue(ev(s)))); };
}

function compileLayout(tag: LayoutView, unit: Unit, lex: Lexical): Render {
  const { file } = tag;
  const rest = compileSequence(tag.templates, unit, lex);
  if (file === undefined) {
    return (s, out) => {
      s.blockMode = OUTPUT;
      rest(s, out);
    };
  }
  if (typeof file !== 'string') return unsupported('layout with a computed file name');
  // We take the layout as it is at boot; without a cache LiquidJS would read the file each time.
  if (unit.liquid.options.cache === undefined) return unsupported('layout without a template cache');
  let templates: Template[];
  try {
    templates = toValueSync(unit.liquid._parseLayoutFile(file, true, tag.currentFile));
  } catch {
    return unsupported(`layout ${file} does not parse`);
  }
  if (unit.layouts.has(templates)) unsupported(`layout ${file} includes itself`);
  unit.layouts.add(templates);
  const layout = compileSequence(templates, unit, { inBlock: false, inForArgs: false });
  unit.layouts.delete(templates);
  const args = compileHash(tag.args, unit, lex);
  return (s, out) => {
    // First the page's own blocks are stored (and anything outside them kept aside)...
    s.blockMode = STORE;
    const buffer: string[] = [];
    rest(s, buffer);
    const html = buffer.join('');
    s.budget.write(html.length);
    if (s.blocks[''] === undefined) s.blocks[''] = (o) => { o.push(html); };
    // ...then the layout renders, taking each block from the page when the page has it.
    s.blockMode = OUTPUT;
    s.scopes.push(createScope(args(s)));
    layout(s, out);
    s.scopes.pop();
  };
}

function compileBlock(tag: BlockTag, unit: Unit, lex: Lexical): Render {
  const name = tag.block;
  // LiquidJS keeps blocks in a plain object, where `constructor` and friends are inherited.
  if (name in Object.prototype) unsupported(`block ${name}`);
  const body = compileSequence(tag.templates, unit, { ...lex, inBlock: true });
  const self = {};
  return (s, out) => {
    const current = (o: string[]): void => {
      if (s.blockStack.includes(self)) throw new Error('block tag cannot be nested');
      s.blockStack.push(self);
      body(s, o);
      s.blockStack.pop();
    };
    const render = s.blocks[name] ?? current;
    if (s.blockMode === STORE) s.blocks[name] = render;
    else render(out);
  };
}

// --- Entry points ---

/** Options under which our runtime behaves as LiquidJS's; anything else stays with LiquidJS. */
function checkOptions(liquid: Liquid): void {
  const o = liquid.options as unknown as Record<string, unknown>;
  if (!version.startsWith('10.')) unsupported(`LiquidJS ${version}`);
  const escapeOk = o['outputEscape'] === undefined || o['outputEscape'] === builtinFilters.escape || o['outputEscape'] === printEscape;
  const defaults = o['jsTruthy'] === false && o['lenientIf'] === false && o['strictVariables'] === false && o['ownPropertyOnly'] === true
    && o['keepOutputType'] === false && !o['catchAllErrors'] && !o['groupedExpressions'] && !o['orderedFilterParameters']
    && o['operators'] === defaultOperators;
  if (!escapeOk || !defaults) unsupported('non-default LiquidJS options');
}

/** The limits LiquidJS's own options set, for a render given no budget: memory and time only. */
export function optionLimits(liquid: Liquid): TemplateLimits {
  const { memoryLimit, renderLimit } = liquid.options;
  return { steps: Infinity, memory: memoryLimit, largest: Infinity, output: Infinity, time: renderLimit };
}

/** A compiled page: the env, and the budget of this render (by default, the Liquid's own limits). */
export type CompiledTemplate = (env: object, budget?: RenderBudget) => string;

/**
 * Compile parsed templates (and the layouts they name) to closures. Throws `Unsupported` when
 * the template uses anything the compiler does not mirror; the compiled function throws (a
 * `Bail`, or whatever LiquidJS would also trip on) when the data holds something only
 * LiquidJS should handle, and a TemplateLimitError when the budget runs out.
 */
export function compileTemplates(liquid: Liquid, templates: Template[]): CompiledTemplate {
  checkOptions(liquid);
  const unit: Unit = { liquid, context: new Context({}, liquid.options, { sync: true }, { liquid }), layouts: new Set() };
  const render = compileSequence(templates, unit, { inBlock: false, inForArgs: false });
  const globals = liquid.options.globals;
  const limits = optionLimits(liquid);
  return (env, budget = new RenderBudget(limits)) => {
    // Filters charge `this.context.memoryLimit`: this render's budget (renders never interleave).
    unit.context.memoryLimit = budget as unknown as Context['memoryLimit'];
    unit.context.renderLimit = budget as unknown as Context['renderLimit'];
    const s: State = { scopes: [Object.create(null) as Scope], env, globals, blockMode: undefined, blocks: {}, blockStack: [], brk: false, cont: false, budget };
    const out: string[] = [];
    render(s, out);
    const html = out.join('');
    budget.write(html.length);
    return html;
  };
}

export interface PageRenderer {
  /** False when the template stays with LiquidJS. */
  readonly compiled: boolean;
  /** Throws a TemplateLimitError, with the line of its tag when known, if the render reaches a limit. */
  render(env: Record<string, unknown>): string;
}

export interface RendererOptions {
  /** False keeps the template with LiquidJS (to compare the two). */
  compile?: boolean;
  /** The limits of each render; by default the Liquid's own options. */
  limits?: Readonly<TemplateLimits>;
  /** The clock the time limit reads (tests give their own). */
  clock?: TimeSource;
}

/**
 * A template rendered by its compiled closures when it has them, else (or on a bail) by
 * LiquidJS, each render within `limits`. A limit reached ends the render: LiquidJS does not
 * try again what the closures could not finish.
 */
export function pageRenderer(liquid: Liquid, templates: Template[], options: RendererOptions = {}): PageRenderer {
  let compiled: CompiledTemplate | undefined;
  try {
    compiled = (options.compile ?? true) ? compileTemplates(liquid, templates) : undefined;
  } catch {
    // Unsupported, or a LiquidJS whose internals moved: either way LiquidJS renders this one.
    compiled = undefined;
  }
  const limits = options.limits ?? optionLimits(liquid);
  return {
    compiled: compiled !== undefined,
    render(env) {
      let budget = new RenderBudget(limits, options.clock);
      if (compiled !== undefined) {
        try {
          return compiled(env, budget);
        } catch (error) {
          if (error instanceof TemplateLimitError) throw error;
          // Data only LiquidJS should handle, or an error LiquidJS will raise in its own words.
          budget = budget.again();
        }
      }
      return renderWithLiquid(liquid, templates, env, budget);
    },
  };
}
