import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Liquid, Template } from 'liquidjs';
import { afterAll, describe, expect, test } from 'vitest';
import { compileTemplates } from '../../src/modules/portal/liquid-compiler.js';
import {
  RenderBudget, SOURCE_LIMITS, TEMPLATE_LIMITS, TemplateLimitError, TemplateTooLarge, UNLIMITED, countTags, renderWithLiquid,
  type TemplateLimits, type TimeSource,
} from '../../src/modules/portal/template-limits.js';
import { Theme, themeLiquid, withTranslator } from '../../src/modules/portal/theme.js';
import { Translator } from '../../src/modules/i18n/translator.js';
import type { PortalRow } from '../../src/modules/portal/portals.service.js';
import { renderSample } from '../../src/modules/portal/portal-themes.js';
import { AppError } from '../../src/errors.js';

// P21 P11: a portal's own template cannot hold the process. Every render of it counts steps,
// memory and output and reads a clock (template-limits.ts), on LiquidJS's interpreter and on the
// compiled closures alike; a source too large to parse quickly is refused before parsing. These
// tests count, and give the clock its time by hand: no test here waits or measures time.

const THEME = join(import.meta.dirname, '..', '..', 'themes', 'default');
const english = new Translator('en', 'UTC');
/** The limits without the clock, for what is counted (the clock has tests of its own below). */
const COUNTED: TemplateLimits = { ...TEMPLATE_LIMITS, time: Infinity };

interface Run { html?: string; stopped?: string; steps: number; memory: number; output: number }

/** One render on one path, within `limits`: what it printed or where it stopped, and what it counted. */
function run(render: (budget: RenderBudget) => string, limits: Readonly<TemplateLimits>, clock?: TimeSource): Run {
  const budget = new RenderBudget(limits, clock);
  const counted = () => ({ steps: budget.steps, memory: budget.memory, output: budget.output });
  try {
    return { html: render(budget), ...counted() };
  } catch (error) {
    if (!(error instanceof TemplateLimitError)) throw error;
    return { stopped: `${error.limit} at line ${String(error.line)}`, ...counted() };
  }
}

/** The same template and data through LiquidJS and through the compiled closures. */
function bothPaths(liquid: Liquid, templates: Template[], env: () => object, limits: Readonly<TemplateLimits>, clock?: () => TimeSource) {
  const compiled = compileTemplates(liquid, templates);
  return {
    liquid: run((budget) => renderWithLiquid(liquid, templates, env(), budget), limits, clock?.()),
    compiled: run((budget) => compiled(env(), budget), limits, clock?.()),
  };
}

const portal = { name: 'Acme Help', title: 'Acme · support', slug: 'acme', language: 'en', logo_url: null, favicon_url: null, menu: [{ label: 'Status', url: 'https://status.example.com' }] };
const page = { portal, lang: 'en', languages: [{ code: 'en', name: 'English', current: true }, { code: 'pl', name: 'Polski', current: false }], member: { name: 'Cora Customer', can_change_password: true, new_ticket_url: '/acme/new' }, csrf: 'csrf-token' };

/** A long conversation: 200 messages of some 600 characters, each with two attachments. */
function longTicket() {
  const body = 'The printer on the second floor stopped again and shows "PC LOAD LETTER" & nothing else.\n'.repeat(7);
  const messages = Array.from({ length: 200 }, (_, i) => ({
    author: `Cora Customer ${i}`, from_customer: i % 2 === 0, body, created_at: '2026-11-24T09:30:00.000Z', created: 'Nov 24, 2026, 9:30 AM',
    attachments: [{ id: 2 * i, filename: `photo-${i}.jpg`, size: '245 KB' }, { id: 2 * i + 1, filename: `printer-${i}.log`, size: '3 KB' }],
  }));
  return withTranslator({ ...page, here: '/acme/7', page_title: 'Printer', max_files: 10, ticket: { id: 7, subject: 'Printer <b>', closed: false, state: 'open', status: 'Open', created_at: 'x', created: 'Nov 24, 2026', messages } }, english);
}

/** The list at its longest page: 25 rows, the organization view, a search and a next page. */
function fullList() {
  const tickets = Array.from({ length: 25 }, (_, i) => ({
    id: 1000 + i, subject: `Printer ${i} says "PC LOAD LETTER" & won't <print>`, created_at: '2026-01-01T00:00:00.000Z', created: 'Jan 1, 2026',
    last_activity_at: '2026-01-02T09:30:00.000Z', last_activity: 'Jan 2, 2026', state: i % 3 === 0 ? 'closed' : 'open', status: i % 3 === 0 ? 'Closed' : 'Open',
  }));
  return withTranslator({
    ...page, here: '/acme', page_title: 'Your tickets', new_ticket_url: '/acme/new', tickets, view: 'organization', company_scope: true,
    filters: { view: 'organization', status: 'all', q: 'printer', sort: '-lastActivity' }, next_page: '/acme?cursor=abc', view_links: { mine: '/acme?view=mine', organization: '/acme?view=organization' },
  }, english);
}

describe('what a render may do', () => {
  const theme = themeLiquid({ root: THEME }, COUNTED, true);

  test('P21 the default theme’s biggest pages, a 200-message conversation and a 25-row list, use a tenth of each limit or less, on both paths', () => {
    for (const [name, env] of [['ticket', longTicket], ['tickets', fullList]] as const) {
      const r = bothPaths(theme, theme.parseFileSync(name), env, COUNTED);
      expect(r.compiled).toEqual(r.liquid);
      expect(r.liquid.html, name).toContain('</html>');
      expect(r.liquid.steps, name).toBeLessThan(COUNTED.steps / 10);
      expect(r.liquid.memory, name).toBeLessThan(COUNTED.memory / 10);
      expect(r.liquid.output, name).toBeLessThan(COUNTED.output / 10);
    }
    // The conversation is long enough to count: each message takes steps and prints output.
    const ticket = bothPaths(theme, theme.parseFileSync('ticket'), longTicket, COUNTED).liquid;
    expect(ticket.steps).toBeGreaterThan(200 * 20);
    expect(ticket.output).toBeGreaterThan(200 * 600);
  });

  const hostile: [string, string, string][] = [
    // The template from the report: a range of twenty million is refused before it is made.
    ['{% for i in (1..20000000) %}{% endfor %}', 'memory at line 1', 'a range too long'],
    ['<ul>\n{% for a in (1..1000) %}\n  {% for b in (1..1000) %}\n    <li>{{ a }}.{{ b }}</li>\n  {% endfor %}\n{% endfor %}\n</ul>', 'steps at line 3', 'loops that multiply'],
    ['{% assign s = "x" %}\n{% for i in (1..60) %}\n{% assign s = s | append: s %}\n{% endfor %}', 'memory at line 3', 'text added to itself'],
    ['{% assign s = "x" %}\n{% for i in (1..60) %}\n{% capture s %}{{ s | raw }}{{ s | raw }}{% endcapture %}\n{% endfor %}', 'output at line 3', 'a capture that doubles'],
    ['{% capture line %}{% for i in (1..100) %}0123456789{% endfor %}{% endcapture %}{% for i in (1..99999) %}\n{{ line }}{{ line }}{{ line }}{{ line }}{{ line }}{% endfor %}', 'output at line 2', 'a page that prints too much'],
    ['{% assign words = "aaaaaaaaaa,bbbbbbbbbb,cccccccccc,dddddddddd,eeeeeeeeee,ffffffffff" | split: "," %}{% for i in (1..100000) %}{% assign all = words | join: "-" %}{% endfor %}', 'memory at line 1', 'a filter in a long loop'],
  ];

  test.each(hostile)('P21 %s stops at the same tag, for the same reason, on both paths (%s: %s)', (source, stopped) => {
    const liquid = themeLiquid({ templates: {} }, COUNTED, true);
    const r = bothPaths(liquid, liquid.parse(source), () => ({}), COUNTED);
    expect(r.liquid.stopped).toBe(stopped);
    expect(r.compiled).toEqual(r.liquid);
  });

  test('P21 a template that includes itself is stopped (LiquidJS renders it; the compiler does not take include)', () => {
    const liquid = themeLiquid({ templates: { 'self.liquid': "x{% include 'self' %}" } }, COUNTED, true);
    const r = run((budget) => renderWithLiquid(liquid, liquid.parseFileSync('self'), {}, budget), { ...COUNTED, steps: 500 });
    expect(r.stopped).toBe('steps at line 1');
  });

  test('P21 the clock stops what no count does, read on both paths: a clock past the budget (and the grace after it) stops the render, a still one never does', () => {
    const liquid = themeLiquid({ templates: {} }, COUNTED, true);
    const templates = liquid.parse('{% for i in (1..20000) %}{% if i == 0 %}never{% endif %}{% endfor %}done');
    const limits = { ...COUNTED, time: 25 };
    // Each reading a millisecond later: LiquidJS reads it at every step, the closures every few hundred.
    const ticking = () => { let now = 0; return () => now++; };
    const ticked = bothPaths(liquid, templates, () => ({}), limits, ticking);
    expect(ticked.liquid.stopped).toBe('time at line 1');
    expect(ticked.compiled.stopped).toBe('time at line 1');
    expect(ticked.compiled.steps).toBeLessThan(20_000);
    const still = bothPaths(liquid, templates, () => ({}), limits, () => () => 0);
    expect(still.liquid.html).toBe('done');
    expect(still.compiled).toEqual(still.liquid);
  });

  test('P21 the compiled closures read the clock soon after heavy work, not only every few hundred steps', () => {
    const liquid = themeLiquid({ templates: {} }, COUNTED, true);
    const templates = liquid.parse('{% for i in (1..1000) %}{% if text contains "needle" %}found{% endif %}{% endfor %}');
    let readings = 0;
    const clock = () => () => readings++;
    const text = 'hay '.repeat(100_000);
    const r = bothPaths(liquid, templates, () => ({ text }), { ...COUNTED, time: 50 }, clock);
    // 1,000 searches of 400,000 characters: the closures stop within the budget's readings, as LiquidJS does.
    expect(r.compiled.stopped).toBe('time at line 1');
    expect(r.compiled.steps).toBeLessThan(200);
  });
});

describe('which templates are bounded', () => {
  const row = { ...portal, branding: '{}', menu: '[]' } as unknown as PortalRow;
  const loop = "{% layout 'layout' %}{% block content %}{% for i in (1..300000) %}{% endfor %}<h1>{{ heading }}</h1>{% endblock %}";
  const dir = mkdtempSync(join(tmpdir(), 'portico-limits-'));
  afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

  test('P21 a portal’s own templates render within the limits; the default theme (Portico’s own files) has none to reach', () => {
    const own = new Theme(undefined, { sources: { error: loop } });
    expect(() => own.render('error', row, { heading: 'Gone' }, english)).toThrow(TemplateLimitError);
    cpSync(THEME, dir, { recursive: true });
    writeFileSync(join(dir, 'error.liquid'), loop);
    expect(new Theme(dir).render('error', row, { heading: 'Gone' }, english)).toContain('<h1>Gone</h1>');
  });

  test('P11 a source over 100,000 characters, or with over 1,000 tags and outputs, is refused before it is parsed', () => {
    expect(countTags('<p>{{ a }}</p>{% if b %}{{ c | upcase }}{% endif %}{% raw %}{{ d }}{% endraw %}')).toBe(7);
    expect(countTags('{% liquid\n  assign a = 1\n  echo a\n%}{{ "}}" }}')).toBe(4);
    expect(countTags('{{ never closed')).toBe(1);
    const tooMany = '{{ a }}'.repeat(SOURCE_LIMITS.tags + 1);
    const tooManyLines = `{% liquid\n${'  echo a\n'.repeat(SOURCE_LIMITS.tags)}%}`;
    const tooLong = `<p>${'x'.repeat(SOURCE_LIMITS.characters)}</p>`;
    for (const [source, limit] of [[tooMany, 'tags'], [tooManyLines, 'tags'], [tooLong, 'characters']] as const) {
      let refused: unknown;
      try {
        new Theme(undefined, { sources: { 'sign-in': source } });
      } catch (error) {
        refused = error;
      }
      expect(refused).toBeInstanceOf(TemplateTooLarge);
      expect(refused).toMatchObject({ template: 'sign-in', limit });
    }
    // Plain text costs little to parse: a long page of it is fine, as is the limit of tags.
    expect(new Theme(undefined, { sources: { 'sign-in': 'x'.repeat(SOURCE_LIMITS.characters), kb: '{{ a }}'.repeat(SOURCE_LIMITS.tags) } }).compiledPages).toContain('kb');
  });

  test('P21 a portal’s theme is built a template at a time, letting other work run in between', async () => {
    let turns = 0;
    let building = true;
    const count = async () => {
      while (building) {
        turns++;
        await nextTurn();
      }
    };
    const counting = count();
    const theme = await Theme.build(undefined, { sources: { error: '<h1>{{ heading }}</h1>' } });
    building = false;
    await counting;
    expect(theme.compiledPages).toContain('error');
    // A turn for each of the sixteen templates, at least.
    expect(turns).toBeGreaterThanOrEqual(16);
  });

  test('P21 a check the clock stops once is tried again before the template is refused; stopped twice, it is refused', async () => {
    /** A clock that jumps a second at each of its first `jumps` readings, then stands still. */
    const jumping = (jumps: number): TimeSource => { let now = 0; let left = jumps; return () => (left-- > 0 ? (now += 1000) : now); };
    const source = "{% layout 'layout' %}{% block content %}<h1>{{ heading }}</h1>{% for i in (1..600) %}{% endfor %}{% endblock %}";
    // The first render reads the clock at its start, then past its deadline at its first step
    // (and the CPU's), then at its 257th, past the grace too: stopped. The second is not.
    const once = new Theme(undefined, { sources: { error: source }, clock: jumping(4) });
    await expect(renderSample(once, row, 'error', english)).resolves.toContain('<h1>Page not found</h1>');
    const always = new Theme(undefined, { sources: { error: source }, clock: jumping(Infinity) });
    const refused = await renderSample(always, row, 'error', english).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({ status: 400, errors: [{ path: '/body/source', message: expect.stringMatching(/^line 1, column 63: This template takes too long to show/) }] });
  });

  test('P21 a budget with no limits never reads the clock', () => {
    const budget = new RenderBudget(UNLIMITED, () => { throw new Error('read the clock'); });
    for (let i = 0; i < 10_000; i++) budget.step();
    budget.use(1e9);
    budget.write(1e9);
    budget.check();
    expect(budget.steps).toBe(10_001);
  });
});
