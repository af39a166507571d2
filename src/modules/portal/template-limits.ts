import { Context, toValueSync, type Liquid, type Template } from 'liquidjs';

/**
 * What one render of a portal's own template may do (P21), so that no template an admin writes
 * can hold the process: LiquidJS's interpreter and the compiled closures (liquid-compiler.ts)
 * count the same steps, memory and output, and both read the same clock. The numbers are in
 * docs/ARCHITECTURE.md ("Template limits"); the default theme's biggest pages use a small
 * fraction of each (test/unit/template-limits.test.ts).
 */
export interface TemplateLimits {
  /** Tags, outputs and text pieces rendered, loop bodies each time round: LiquidJS's renderLimit checks. */
  steps: number;
  /** Characters and list items that filters and ranges make, in all: LiquidJS's memoryLimit. */
  memory: number;
  /** The most one filter or range may make at once (one text, one list). */
  largest: number;
  /** Characters printed, captured or laid out. */
  output: number;
  /**
   * Milliseconds from the start of the render, on a monotonic clock; once they have passed, a
   * quarter as many again of the process's own CPU time (TIME_GRACE), so that a render the
   * machine paused for other processes' turn is not stopped for it.
   */
  time: number;
}

export const TEMPLATE_LIMITS: Readonly<TemplateLimits> = {
  steps: 100_000,
  memory: 2_000_000,
  largest: 100_000,
  output: 5_000_000,
  time: 20,
};

/** The default theme's: Portico's own templates, whose work follows the data they are given. */
export const UNLIMITED: Readonly<TemplateLimits> = { steps: Infinity, memory: Infinity, largest: Infinity, output: Infinity, time: Infinity };

/** What a portal's template source may hold: parsing is one step no clock can stop. */
export const SOURCE_LIMITS = {
  characters: 100_000,
  /** Tags and outputs, each line of a `{% liquid %}` tag counted as one. */
  tags: 1_000,
} as const;

export type LimitName = 'steps' | 'memory' | 'output' | 'time';

/** A render stopped by a limit; `line` and `column` name the tag it was in, when known. */
export class TemplateLimitError extends Error {
  line: number | undefined;
  column: number | undefined;

  constructor(readonly limit: LimitName) {
    super(`template ${limit} limit reached`);
    this.name = 'TemplateLimitError';
  }
}

/** A clock in milliseconds; tests give one of their own, read as both the wall clock and the CPU's. */
export type TimeSource = () => number;
const monotonic: TimeSource = () => performance.now();
/** The process's CPU time (read only once a render is past its time: it costs a system call). */
const processTime: TimeSource = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
/** After the wall clock's `time`, this share of it again in CPU time. */
export const TIME_GRACE = 0.25;

/** The compiled path reads the clock every this many steps (a big charge counts as more). */
const CLOCK_EVERY = 256;
/** Characters or items charged that count as one step towards the next clock reading. */
const CHARS_PER_STEP = 256;

/**
 * The budget of one render. LiquidJS takes it as both its memoryLimit (`use`) and its
 * renderLimit (`check`, called before every template it renders, and read against the clock
 * each time); the compiled closures call `step` where LiquidJS calls `check`, so both count the
 * same steps, and read the clock every CLOCK_EVERY steps or sooner after heavy work.
 */
export class RenderBudget {
  steps = 0;
  memory = 0;
  output = 0;
  private nextCheck: number;
  private readonly deadline: number;
  private readonly cpuClock: TimeSource;
  /** The process's CPU time when the render was first seen past its deadline. */
  private cpuAtDeadline: number | undefined;

  constructor(readonly limits: Readonly<TemplateLimits>, private readonly clock: TimeSource = monotonic, deadline?: number) {
    this.cpuClock = clock === monotonic ? processTime : clock;
    this.deadline = deadline ?? (limits.time === Infinity ? Infinity : clock() + limits.time);
    // The first step reads the clock, as LiquidJS's first check does.
    this.nextCheck = this.deadline === Infinity && limits.steps === Infinity ? Infinity : 1;
  }

  /** The same limits and deadline, nothing counted yet: for LiquidJS to start again after a bail. */
  again(): RenderBudget {
    return new RenderBudget(this.limits, this.clock, this.deadline);
  }

  /** LiquidJS's renderLimit.check(now), before each template: a step, and the clock (LiquidJS's own reading of it, unless a test gave its own clock). */
  check(now?: number): void {
    if (++this.steps > this.limits.steps) throw new TemplateLimitError('steps');
    if (this.deadline !== Infinity && this.outOfTime(this.clock === monotonic ? now : undefined)) throw new TemplateLimitError('time');
  }

  /** The compiled closures' check: a step, and now and then the clock. */
  step(): void {
    if (++this.steps >= this.nextCheck) this.checkpoint();
  }

  /**
   * Work that is not a step (searching, making or printing a long list or text): brings the next
   * clock reading closer. What is shorter than a step's worth is left to the step that did it.
   */
  weigh(units: number): void {
    if (units < CHARS_PER_STEP) return;
    this.nextCheck -= units / CHARS_PER_STEP;
    if (this.steps >= this.nextCheck) this.checkpoint();
  }

  /** LiquidJS's memoryLimit.use(count): filters and ranges charge what they make (NaN charges nothing, as there). */
  use(count: number): void {
    if (!(count > 0)) return;
    if (count > this.limits.largest || this.memory + count > this.limits.memory) throw new TemplateLimitError('memory');
    this.memory += count;
    this.weigh(count);
  }

  /** Characters printed, captured or laid out. */
  write(chars: number): void {
    if (this.output + chars > this.limits.output) throw new TemplateLimitError('output');
    this.output += chars;
    this.weigh(chars);
  }

  private checkpoint(): void {
    if (this.steps > this.limits.steps) throw new TemplateLimitError('steps');
    if (this.deadline !== Infinity && this.outOfTime()) throw new TemplateLimitError('time');
    this.nextCheck = Math.min(this.steps + CLOCK_EVERY, this.limits.steps + 1);
  }

  /** Past the deadline, and past the grace of CPU time the process has had since. */
  private outOfTime(now = this.clock()): boolean {
    if (now <= this.deadline) return false;
    const cpu = this.cpuClock();
    this.cpuAtDeadline ??= cpu;
    return cpu - this.cpuAtDeadline > this.limits.time * TIME_GRACE;
  }
}

/** The budget a filter's context carries, when it is one of ours (a test may render without). */
export function budgetOf(context: { memoryLimit: unknown }): RenderBudget | undefined {
  const limit = context.memoryLimit;
  return limit instanceof RenderBudget ? limit : undefined;
}

/** Gives a limit error the position of the tag (a LiquidJS token) it was thrown in, unless a tag inside it already did. */
export function locate(error: unknown, token: unknown): unknown {
  const position = (token as { getPosition?: unknown } | undefined)?.getPosition;
  if (error instanceof TemplateLimitError && error.line === undefined && typeof position === 'function') {
    const [line, column] = (position as () => number[]).call(token);
    error.line = line;
    error.column = column;
  }
  return error;
}

/** Gives a limit error the position of a property access it was thrown in, over any inside it (LiquidJS wraps it again there). */
export function relocate(error: unknown, token: unknown): unknown {
  if (error instanceof TemplateLimitError) error.line = undefined;
  return locate(error, token);
}

/** The limit error inside one of LiquidJS's (which carry the tag that failed), if it is one. */
export function limitError(error: unknown): TemplateLimitError | undefined {
  let cause = error;
  let token: unknown;
  for (let depth = 0; depth < 10 && cause instanceof Error; depth++) {
    if (cause instanceof TemplateLimitError) return locate(cause, token) as TemplateLimitError;
    const wrapped = cause as Error & { originalError?: unknown; token?: unknown };
    token ??= wrapped.token;
    cause = wrapped.originalError;
  }
  return undefined;
}

type RenderTemplates = (templates: Template[], ctx: Context, emitter?: unknown) => IterableIterator<unknown>;
const bounded = new WeakSet<Liquid>();

/**
 * Makes a Liquid instance count what it captures, lays out and returns (the HTML of every
 * `renderTemplates` made without an emitter: capture, a layout's page, the whole render) as
 * output, as the compiled closures do; LiquidJS itself counts none of it.
 */
export function countOutput(liquid: Liquid): void {
  if (bounded.has(liquid)) return;
  bounded.add(liquid);
  const renderer = liquid.renderer as unknown as { renderTemplates: RenderTemplates };
  const inner = renderer.renderTemplates.bind(renderer);
  renderer.renderTemplates = function* (templates, ctx, emitter) {
    const html: unknown = yield inner(templates, ctx, emitter);
    if (emitter === undefined && typeof html === 'string') budgetOf(ctx)?.write(html.length);
    return html;
  };
}

/**
 * `liquid.renderSync(templates, env)` within `budget`. A limit reached comes out as a
 * TemplateLimitError with the line of its tag, not as LiquidJS's RenderError.
 */
export function renderWithLiquid(liquid: Liquid, templates: Template[], env: object, budget: RenderBudget): string {
  countOutput(liquid);
  const limiter = budget as unknown as Context['memoryLimit'];
  const ctx = new Context(env, liquid.options, { sync: true }, { liquid, memoryLimit: limiter, renderLimit: limiter });
  try {
    return toValueSync(liquid.renderer.renderTemplates(templates, ctx)) as string;
  } catch (error) {
    throw limitError(error) ?? error;
  }
}

/**
 * How many tags and outputs a source holds, each line of a `{% liquid %}` tag counted as one
 * (what parsing costs grows with these, not with plain text). One pass, as LiquidJS reads them.
 */
export function countTags(source: string): number {
  const open = /\{([{%])/g;
  let count = 0;
  for (let m = open.exec(source); m !== null; m = open.exec(source)) {
    count++;
    const isTag = m[1] === '%';
    const close = source.indexOf(isTag ? '%}' : '}}', open.lastIndex);
    if (close === -1) break;
    const body = source.slice(open.lastIndex, close);
    if (isTag && /^-?\s*liquid\b/.test(body)) count += body.split('\n').slice(1).filter((line) => line.trim() !== '').length;
    open.lastIndex = close + 2;
  }
  return count;
}

/** A portal's template source over SOURCE_LIMITS, refused before LiquidJS parses it. */
export class TemplateTooLarge extends Error {
  constructor(readonly template: string, readonly limit: keyof typeof SOURCE_LIMITS) {
    super(`template ${template} is over the ${limit} limit`);
    this.name = 'TemplateTooLarge';
  }
}

/** Throws TemplateTooLarge unless `source` is within SOURCE_LIMITS. */
export function checkSource(template: string, source: string): void {
  if (source.length > SOURCE_LIMITS.characters) throw new TemplateTooLarge(template, 'characters');
  if (countTags(source) > SOURCE_LIMITS.tags) throw new TemplateTooLarge(template, 'tags');
}
