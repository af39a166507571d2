import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Drop, Liquid, type Template } from 'liquidjs';
import { afterAll, describe, expect, test } from 'vitest';
import { compileTemplates, pageRenderer, Unsupported } from '../../src/modules/portal/liquid-compiler.js';
import { Bail, printEscape } from '../../src/modules/portal/liquid-runtime.js';
import { RenderBudget, TemplateLimitError, UNLIMITED, renderWithLiquid, type TemplateLimits } from '../../src/modules/portal/template-limits.js';
import { registerThemeFilters, Theme, withTranslator } from '../../src/modules/portal/theme.js';
import { Translator } from '../../src/modules/i18n/translator.js';
import type { PortalRow } from '../../src/modules/portal/portals.service.js';

// The differential test of the compiled portal templates: whatever LiquidJS's renderSync prints
// for a template and a context, the compiled closures print byte for byte, or (for what the
// compiler does not handle) the page falls back to LiquidJS itself. Both count the same steps,
// memory and output while doing so (template-limits.ts), and so stop at the same place when a
// limit is reached.

const THEME = join(import.meta.dirname, '..', '..', 'themes', 'default');
const OPTIONS = { outputEscape: 'escape', strictFilters: true, ownPropertyOnly: true } as const;
// The theme's own options: its outputEscape counts what it escapes as output (the small corpus
// below keeps LiquidJS's 'escape', which counts it as memory).
const theme = new Liquid({ root: THEME, extname: '.liquid', cache: true, ...OPTIONS, outputEscape: printEscape });
registerThemeFilters(theme);
const english = new Translator('en', 'UTC');
const polish = new Translator('pl', 'Europe/Warsaw');
const languages = [{ code: 'en', name: 'English', current: true }, { code: 'pl', name: 'Polski', current: false }];
const PAGES = ['home', 'search', 'sign-in', 'tickets', 'ticket', 'new-ticket', 'kb', 'kb-article', 'error', 'notice', 'confirm', 'password-reset', 'password-set', 'change-email', 'register', 'access-denied'] as const;

type Outcome = { html: string } | { threw: true };
function outcome(render: () => unknown): Outcome {
  try {
    return { html: render() as string };
  } catch {
    return { threw: true };
  }
}

/** What a render printed or which limit stopped it (and where), with what its budget counted. */
type Bounded = ({ html: string } | { threw: string }) & { steps: number; memory: number; output: number };
function bounded(render: (budget: RenderBudget) => string, limits: Readonly<TemplateLimits>): Bounded {
  const budget = new RenderBudget(limits);
  const counted = () => ({ steps: budget.steps, memory: budget.memory, output: budget.output });
  try {
    return { html: render(budget), ...counted() };
  } catch (error) {
    return { threw: error instanceof TemplateLimitError ? `${error.limit} at ${String(error.line)}:${String(error.column)}` : 'error', ...counted() };
  }
}

/** Both renderings of one template, within `limits`; the compiled one without any fallback. */
function differential(liquid: Liquid, templates: Template[], env: object, limits: Readonly<TemplateLimits> = UNLIMITED): { liquid: Bounded; compiled: Bounded } {
  // The t filter reads the translator from the data, as on a real page.
  if (Object.getOwnPropertySymbols(env).length === 0) withTranslator(env, polish);
  const compiled = compileTemplates(liquid, templates);
  return { liquid: bounded((budget) => renderWithLiquid(liquid, templates, env, budget), limits), compiled: bounded((budget) => compiled(env, budget), limits) };
}

function expectSame(liquid: Liquid, templates: Template[], env: object, limits: Readonly<TemplateLimits> = UNLIMITED): void {
  const r = differential(liquid, templates, env, limits);
  expect(r.compiled).toEqual(r.liquid);
}

/** Limits from none to a handful, the clock left out (it is not the same twice). */
const someLimits: fc.Arbitrary<TemplateLimits> = fc.record({
  steps: fc.oneof(fc.constant(Infinity), fc.integer({ min: 1, max: 60 })),
  memory: fc.oneof(fc.constant(Infinity), fc.integer({ min: 1, max: 80 })),
  largest: fc.oneof(fc.constant(Infinity), fc.integer({ min: 1, max: 30 })),
  output: fc.oneof(fc.constant(Infinity), fc.integer({ min: 1, max: 200 })),
  time: fc.constant(Infinity),
});

// --- Hostile data: markup, unicode, odd numbers, holes, prototypes, names Liquid treats specially. ---

const nasty = fc.constantFrom(
  '<script>alert(1)</script>', '&amp;', '"', "'", '&', '<', '>', '', ' ', '{{ x }}', '{% raw %}', 'size', 'first', 'last',
  'constructor', '__proto__', 'toString', 'żółć', 'İ', '💥', '\u0000', '\u2028', 'nil', 'true', '0', '1', 'open', 'all',
);
const str = fc.oneof(nasty, fc.string({ unit: 'grapheme', maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 6 }));
const num = fc.oneof(fc.integer({ min: -5, max: 30 }), fc.double(), fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 1e21, 0.1));
const key = fc.oneof(
  fc.constantFrom('x', 'size', 'first', 'last', 'constructor', '__proto__', 'length', '0', '-1', 'id', 'name', 'subject'),
  fc.string({ maxLength: 4 }),
);
const leaf = fc.oneof(str, num, fc.boolean(), fc.constant(null), fc.constant(undefined));
const { value } = fc.letrec<{ value: unknown; array: unknown; sparse: unknown; object: unknown; inherited: unknown; odd: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { arbitrary: leaf, weight: 8 }, { arbitrary: tie('array'), weight: 2 }, { arbitrary: tie('sparse'), weight: 1 },
    { arbitrary: tie('object'), weight: 3 }, { arbitrary: tie('inherited'), weight: 2 }, { arbitrary: tie('odd'), weight: 1 },
  ),
  array: fc.array(tie('value'), { maxLength: 6 }),
  sparse: fc.sparseArray(tie('value'), { maxLength: 5 }),
  object: fc.dictionary(key, tie('value'), { maxKeys: 5, noNullPrototype: true }),
  // Properties on the prototype: ownPropertyOnly hides them, except where LiquidJS does not.
  inherited: fc.tuple(fc.dictionary(key, tie('value'), { maxKeys: 4, noNullPrototype: true }), fc.dictionary(key, tie('value'), { maxKeys: 3, noNullPrototype: true }))
    .map(([proto, own]) => Object.defineProperties(Object.create(proto) as object, Object.getOwnPropertyDescriptors(own))),
  // Objects without a prototype, or with toString shadowed, which String() cannot print: LiquidJS
  // throws on printing them, and so must we.
  odd: fc.dictionary(fc.oneof(key, fc.constantFrom('toString', 'valueOf', 'toLiquid')), tie('value'), { maxKeys: 3 }),
}));
/** A field of the shape the page expects most of the time, anything at all otherwise. */
function maybe<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 4, arbitrary: arb }, { weight: 1, arbitrary: value });
}

const ticketRow = fc.record({
  id: maybe(num), subject: maybe(str), created_at: maybe(str), created: maybe(str), last_activity_at: maybe(str),
  last_activity: maybe(str), state: maybe(fc.constantFrom('open', 'closed')), status: maybe(str),
}, { requiredKeys: [] });
const message = fc.record({
  author: maybe(str), from_customer: maybe(fc.boolean()), body: maybe(str), created_at: maybe(str), created: maybe(str),
  attachments: maybe(fc.array(fc.record({ id: maybe(num), filename: maybe(str), size: maybe(str) }, { requiredKeys: [] }), { maxLength: 3 })),
}, { requiredKeys: [] });
const pageContext = fc.record({
  portal: maybe(fc.record({ name: maybe(str), title: maybe(str), slug: maybe(str), language: maybe(str), logo_url: maybe(fc.option(str)), favicon_url: maybe(fc.option(str)) }, { requiredKeys: [] })),
  member: maybe(fc.option(fc.record({ name: maybe(str) }))),
  csrf: maybe(str), page_title: maybe(str), heading: maybe(str), message: maybe(str), error: maybe(str), next: maybe(str), email: maybe(str),
  tickets: maybe(fc.array(ticketRow, { maxLength: 30 })),
  view: maybe(fc.constantFrom('mine', 'organization')), company_scope: maybe(fc.boolean()),
  filters: maybe(fc.record({ q: maybe(str), status: maybe(fc.constantFrom('all', 'open', 'closed')), sort: maybe(fc.constantFrom('-lastActivity', 'lastActivity', '-created', 'created')) }, { requiredKeys: [] })),
  view_links: maybe(fc.record({ mine: maybe(str), organization: maybe(str) }, { requiredKeys: [] })),
  next_page: maybe(fc.option(str)),
  ticket: maybe(fc.record({
    id: maybe(num), subject: maybe(str), created_at: maybe(str), created: maybe(str), state: maybe(str), status: maybe(str),
    closed: maybe(fc.boolean()), messages: maybe(fc.array(message, { maxLength: 5 })),
  }, { requiredKeys: [] })),
  max_files: maybe(num),
}, { requiredKeys: [] });

// --- Realistic contexts, as pages.routes.ts builds them. ---

const portal = { name: 'Acme Help', title: 'Acme · your tickets', slug: 'acme', language: 'en', logo_url: null, favicon_url: null };
function ticketRows(n: number) {
  return Array.from({ length: n }, (_, i) => ({
    id: 1000 + i, subject: `Printer ${i} says "PC LOAD LETTER" & won't <print>`, created_at: '2025-01-01T00:00:00.000Z', created: 'Jan 1, 2025',
    last_activity_at: '2025-01-02T09:30:00.000Z', last_activity: 'Jan 2, 2025', state: i % 3 === 0 ? 'closed' : 'open', status: i % 3 === 0 ? 'Closed' : 'Waiting on us',
  }));
}
function listContext(rows: number, changes: Record<string, unknown> = {}) {
  return {
    portal, member: { name: 'Cora Customer' }, csrf: 'csrf-token', page_title: portal.title, tickets: ticketRows(rows), view: 'mine', company_scope: false,
    filters: { view: 'mine', status: 'all', q: '', sort: '-lastActivity' }, next_page: null,
    view_links: { mine: '/acme?view=mine', organization: '/acme?view=organization' }, ...changes,
  };
}
const realisticData: Record<(typeof PAGES)[number], object[]> = {
  home: [
    { portal, member: { name: 'Ann' }, csrf: 'c', page_title: 'Acme', section: 'home', nav: { home: '/acme', tickets: '/acme/tickets', kb: '/acme/kb', new_ticket: '/acme/new' }, new_ticket_url: '/acme/new', open_tickets: listContext(3).tickets, popular: [{ title: 'Paper <jams>', url: '/acme/kb/jams' }] },
    { portal, member: { name: 'Ann' }, csrf: 'c', page_title: 'Acme', section: 'home', nav: { home: '/acme', tickets: '/acme/tickets' }, new_ticket_url: null, open_tickets: [], popular: null },
  ],
  search: [
    { portal, member: { name: 'Ann' }, csrf: 'c', page_title: 'x', q: 'printer "jam"', tickets: listContext(2).tickets, articles: [{ title: 'Paper', url: '/acme/kb/p' }], more_tickets: '/acme/tickets?q=printer' },
    { portal, member: { name: 'Ann' }, csrf: 'c', page_title: 'x', q: '', tickets: [], articles: null, more_tickets: null },
  ],
  'sign-in': [
    { portal, member: null, csrf: 'c', page_title: 'Sign in', next: '/acme', email: '', methods: { password: true, magic_link: false } },
    { portal, member: null, csrf: 'c', page_title: 'Sign in', next: '/acme', email: '', methods: { password: true, magic_link: true }, self_registration: true },
    { portal, member: null, csrf: 'c', page_title: 'Sign in', next: '/acme', email: '', methods: { password: false, magic_link: true } },
    { portal: { ...portal, logo_url: 'https://cdn.example.com/logo.png', favicon_url: 'https://cdn.example.com/f.ico' }, member: null, csrf: 'c', page_title: 'Sign in', next: '/acme/12', email: 'o\'neil@example.com', error: 'The email or password is wrong.' },
    { portal, member: null, csrf: 'c', page_title: 'Sign in', next: '/acme', email: '', methods: { password: true, magic_link: true, sso: true }, providers: [{ name: 'Acme <SSO>', url: '/acme/sso/1/start?next=%2Facme%2F7' }] },
    { portal, member: null, csrf: 'c', page_title: 'Sign in', next: '/acme', email: '', methods: { password: false, magic_link: false, sso: true }, providers: [{ name: 'Okta', url: '/acme/sso/2/start' }] },
  ],
  tickets: [
    listContext(25), listContext(0), listContext(0, { filters: { view: 'mine', status: 'open', q: 'printer', sort: 'created' } }),
    listContext(25, { company_scope: true, view: 'organization', next_page: '/acme?cursor=abc&q=%3Cx%3E' }),
  ],
  ticket: [true, false].map((closed) => ({
    portal, member: { name: 'Cora' }, csrf: 'c', page_title: 'Printer', max_files: 5,
    ticket: {
      id: 7, subject: 'Printer <b>', closed, state: closed ? 'closed' : 'open', status: closed ? 'Closed' : 'Open', created_at: '2025-01-01T00:00:00.000Z', created: 'Jan 1, 2025, 9:00 AM',
      messages: closed ? [] : [
        { author: 'Cora', from_customer: true, body: 'It says "<PC LOAD LETTER>"\nagain', created_at: 'x', created: 'y', attachments: [{ id: 3, filename: 'a&b.png', size: '1.2 MB' }] },
        { author: 'Support team', from_customer: false, body: 'Try A4 & retry', created_at: 'x', created: 'y', attachments: [] },
      ],
    },
  })),
  'new-ticket': [
    { portal, member: { name: 'Cora' }, csrf: 'c', page_title: 'New', problems: [], files_lost: false, fields: [
      { key: 'subject', label: 'Subject <b>', type: 'text', required: true, value: '', problem: null },
      { key: 'area', label: 'Area', type: 'choice', required: false, value: 'B&B', options: ['A', 'B&B'], problem: null, help: 'Pick <one>' },
    ] },
    { portal, member: { name: 'Cora' }, csrf: 'c', page_title: 'New', problems: [{ key: 'subject' }], files_lost: true, fields: [
      { key: 'subject', label: 'Subject', type: 'text', required: true, value: '"quoted" <x>', problem: 'Fill in <this>' },
      { key: 'details', label: 'Details', type: 'textarea', required: true, value: '</textarea><script>', problem: null },
      { key: 'files', label: 'Files', type: 'file', required: false, value: '', problem: null },
    ] },
  ],
  kb: [
    { portal, member: null, csrf: '', page_title: 'Help', q: '', results: [], portal_link: '/acme', categories: [{ name: 'Print <ing>', description: 'Paper & toner', articles: [{ title: 'Jams <b>', url: '/acme/kb/jams' }] }] },
    { portal, member: null, csrf: '', page_title: 'Help', q: '<x> "y"', results: [], portal_link: null, categories: [] },
    { portal, member: null, csrf: '', page_title: 'Help', q: 'jam', results: [{ title: 'Jams', url: '/acme/kb/jams' }, { title: 'More jams', url: '/acme/kb/more' }], portal_link: '/acme', categories: [] },
  ],
  'kb-article': [
    { portal, member: null, csrf: '', page_title: 'Jams', portal_link: '/acme', article: { title: 'Jams <b>', category: 'Print & co', html: '<p>Open <strong>tray 2</strong></p>', updated: 'Jan 1, 2025' } },
  ],
  error: [{ portal, member: null, csrf: '', heading: 'Page not found', message: 'There is nothing at this address.', page_title: 'Page not found' }],
  notice: [
    { portal, member: null, csrf: 'c', heading: 'Check your email', message: 'If <a@b.c> has an account…', page_title: 'Check your email' },
    { portal, member: { name: 'Cora', can_change_password: true }, csrf: 'c', heading: 'Gone', message: 'Ask again', action: { url: '/acme/sign-in?x=<y>', label: 'Again & again' }, page_title: 'Gone' },
  ],
  confirm: [{ portal, member: null, csrf: 'c<"', heading: 'Sign in to <Acme>', message: 'Press & go', button: 'Sign "in"', action: '/acme/magic-link/a?b=<c>', page_title: 'Sign in' }],
  'password-reset': [{ portal, member: null, csrf: 'c', page_title: 'Reset', email: '' }, { portal, member: null, csrf: 'c', page_title: 'Reset', email: '"x"@y.z' }],
  'change-email': [
    { portal, member: { name: 'Cora', can_change_password: true }, csrf: 'c', page_title: 'Change', current_email: 'c@x.y', email: '' },
    { portal, member: { name: 'Cora', can_change_password: true }, csrf: 'c', page_title: 'Change', current_email: 'c@x.y', email: '<new>@x.y', error: 'Wrong <pw>' },
  ],
  'access-denied': [{ portal, member: null, csrf: '', heading: 'Access denied', message: 'Not on <the> list', page_title: 'Access denied' }],
  register: [
    { portal, member: null, csrf: 'c', page_title: 'Register', consent_html: '<p>We use <a href="https://x.example/p">data</a></p>', consent_label: 'I agree & <so>', name: '', email: '', consent: false },
    { portal, member: null, csrf: 'c', page_title: 'Register', consent_html: '', consent_label: '', name: 'Zoë "Z" <b>', email: 'z@x.y', consent: true, error: 'Tick <the> box' },
  ],
  'password-set': [
    { portal, member: null, csrf: 'c', heading: 'Choose', page_title: 'Choose', action: '/acme/password-reset/abc', needs_current: false },
    { portal, member: null, csrf: 'c', heading: 'Choose', page_title: 'Choose', notice: 'For your <safety>', action: '/acme/password-reset/abc', needs_current: false },
    { portal, member: { name: 'Cora', can_change_password: true }, csrf: 'c', heading: 'Change', page_title: 'Change', action: '/acme/account/password', needs_current: true, email: 'cora@example.com', error: 'Too <short>' },
  ],
};
// Each page in English, and in Polish with the language switch shown.
const realistic = Object.fromEntries(Object.entries(realisticData).map(([page, envs]) => [page, envs.flatMap((env) => [
  withTranslator({ ...env, lang: 'en', languages: languages.slice(0, 1), here: '/acme' }, english),
  withTranslator({ ...env, lang: 'pl', languages, here: '/acme?q=%3Cx%3E' }, polish),
])])) as Record<(typeof PAGES)[number], object[]>;

describe('the default theme', () => {
  test('P21 every page of the default theme compiles, and the theme renders them through the closures', () => {
    expect(new Theme().compiledPages).toEqual(PAGES);
    for (const page of PAGES) expect(pageRenderer(theme, theme.parseFileSync(page)).compiled).toBe(true);
  });

  test('P31 the ticket list prints what LiquidJS prints: 25 rows, none, filtered, organization view with a next page', () => {
    const templates = theme.parseFileSync('tickets');
    for (const env of realistic.tickets) {
      const r = differential(theme, templates, env);
      expect(r.liquid).toHaveProperty('html');
      expect(r.compiled).toEqual(r.liquid);
    }
  });

  test('P21 the sign-in, ticket and error pages print what LiquidJS prints for realistic data', () => {
    for (const page of ['sign-in', 'ticket', 'error'] as const) {
      const templates = theme.parseFileSync(page);
      for (const env of realistic[page]) {
        const r = differential(theme, templates, env);
        expect(r.liquid).toHaveProperty('html');
        expect(r.compiled).toEqual(r.liquid);
      }
    }
  });

  test('P31 the ticket list prints what LiquidJS prints for any data, however hostile', () => {
    const templates = theme.parseFileSync('tickets');
    fc.assert(fc.property(pageContext, (env) => { expectSame(theme, templates, env); }), { numRuns: 300 });
  });

  test('P21 every page prints what LiquidJS prints for any data, however hostile', () => {
    for (const page of PAGES) {
      const templates = theme.parseFileSync(page);
      fc.assert(fc.property(pageContext, (env) => { expectSame(theme, templates, env); }), { numRuns: 150 });
    }
  });

  test('P21 Theme.render gives the same page compiled or not', () => {
    const row = { ...portal, branding: JSON.stringify({ logoUrl: 'https://x.example/l.png' }) } as unknown as PortalRow;
    const compiled = new Theme();
    const interpreted = new Theme(undefined, { compile: false });
    expect(interpreted.compiledPages).toEqual([]);
    for (const page of PAGES) {
      for (const tr of [english, polish]) {
        for (const env of realisticData[page]) expect(compiled.render(page, row, { ...env }, tr)).toBe(interpreted.render(page, row, { ...env }, tr));
      }
    }
  });
});

// --- A corpus of small templates covering each construct the compiler accepts. ---

const small = new Liquid(OPTIONS);
registerThemeFilters(small);

const corpus = [
  // the theme's t filter: catalogue messages with plural values, unknown keys, odd values
  '{{ "tickets.shown" | t: count: n }}|{{ a | t }}|{{ "ticket.replyFilesHint" | t: max: arr.size }}|{{ "status.open" | t: 1, count: b }}|{{ "tickets.heading" | t | upcase }}|{{ s | t: count: n }}',
  // outputs, paths, escaping, stringification
  '{{ a }}|{{ b }}|{{ n }}|{{ s }}|{{ arr }}|{{ obj }}|{{ missing }}|{{ missing.x.y }}',
  '{{ a.b }}{{ obj.x }}{{ obj["x"] }}{{ obj[k] }}{{ arr[0] }}{{ arr[-1] }}{{ arr[n] }}{{ arr[k] }}{{ s[0] }}{{ [k] }}',
  '{{ arr.size }}|{{ arr.first }}|{{ arr.last }}|{{ obj.size }}|{{ obj.first }}|{{ obj.last }}|{{ s.size }}|{{ s.length }}|{{ n.size }}|{{ size }}|{{ first }}',
  '{{ "lit" }}{{ \'<&>\' }}{{ 1 }}{{ -2.5 }}{{ true }}{{ false }}{{ nil }}{{ null }}{{ empty }}{{ blank }}{{ (1..3) }}{{ (n..4) }}{{ "abc".size }}{{ (1..3).last }}',
  '{{ a | raw }}{{ a | escape }}{{ a | raw | upcase }}{{ a | escape | raw }}{{ arr | join: "<" }}{{ arr | raw }}',
  // whitespace control is done by LiquidJS's parser, before we see the template
  '  {{- a -}}  \n {%- if true -%}  x  {%- endif -%} \n {{ b -}} \n\n {%- assign c = 1 %} {{ c }}',
  // conditions: each operator, truthiness, and/or without precedence
  '{% if a %}T{% else %}F{% endif %}{% if "" %}E{% endif %}{% if 0 %}Z{% endif %}{% if empty %}M{% endif %}{% if nil %}N{% endif %}{% if false %}X{% endif %}',
  '{% if a == b %}1{% endif %}{% if a != b %}2{% endif %}{% if n < 3 %}3{% endif %}{% if n > 3 %}4{% endif %}{% if n <= 3 %}5{% endif %}{% if n >= 3 %}6{% endif %}',
  '{% if s contains "a" %}1{% endif %}{% if arr contains a %}2{% endif %}{% if obj contains "x" %}3{% endif %}{% if n contains 1 %}4{% endif %}',
  '{% if arr == empty %}1{% endif %}{% if s == blank %}2{% endif %}{% if obj == empty %}3{% endif %}{% if missing == nil %}4{% endif %}{% if a == nil %}5{% endif %}{% if empty == "" %}6{% endif %}',
  '{% if true or false and false %}1{% endif %}{% if false and false or true %}2{% endif %}{% if a or b and n > 1 %}3{% endif %}{% if not a %}4{% endif %}{% if not a == b %}5{% endif %}',
  '{% if a %}1{% elsif b %}2{% elsif n == 1 %}3{% else %}4{% endif %}{% unless a %}5{% elsif b %}6{% else %}7{% endunless %}',
  '{% if arr == arr %}1{% endif %}{% if (1..2) == (1..2) %}2{% endif %}{% if arr.size > 1 %}3{% endif %}{% if s > n %}4{% endif %}{% if a < nil %}5{% endif %}',
  // case: every matching when renders
  '{% case a %}{% when 1, 2 %}A{% when 2 or "x" %}B{% when nil %}N{% when empty %}E{% else %}C{% endcase %}',
  '{% case n %}{% when 1 %}one{% when 1 %}again{% endcase %}{% case s %}{% else %}only else{% endcase %}',
  // loops
  '{% for i in arr %}[{{ forloop.index }}/{{ forloop.index0 }}/{{ forloop.length }}/{{ forloop.first }}/{{ forloop.last }}/{{ forloop.rindex }}/{{ forloop.rindex0 }}/{{ forloop.name }}:{{ i }}]{% else %}none{% endfor %}',
  '{% for i in arr limit: 2 offset: 1 %}{{ i }}{% endfor %}|{% for i in arr reversed offset: n %}{{ i }}{% endfor %}|{% for i in arr limit: nil %}{{ i }}{% endfor %}|{% for i in arr limit: "1" %}{{ i }}{% endfor %}',
  '{% for i in obj %}{{ i[0] }}={{ i[1] }};{% endfor %}{% for c in s %}<{{ c }}>{% endfor %}{% for i in n %}{{ i }}{% else %}not a list{% endfor %}{% for i in (1..n) %}{{ i }}{% endfor %}',
  '{% for i in (1..4) %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 4 %}{% break %}{% endif %}{{ i }}{% endfor %}after',
  '{% for i in (1..2) %}{% for j in (1..2) %}{{ forloop.index }}{{ i }}{{ j }}{% endfor %}{{ forloop.index }}{% endfor %}{{ forloop.index }}{{ i }}',
  '{% break %}not printed{{ a }}', '{% if true %}{% continue %}x{% endif %}y', '{% for i in arr %}{{ forloop }}{% endfor %}',
  '{% for i in arr %}{% assign last = i %}{% endfor %}{{ last }}{{ i }}{% for arr in arr %}{{ arr }}{% endfor %}',
  // assign, capture, echo, raw, comment, liquid
  '{% assign x = a | default: "d" %}{{ x }}{% assign a = "shadow" %}{{ a }}{% capture c %}<{{ b }}>{% endcapture %}{{ c }}{% capture "q" %}q{% endcapture %}{{ q }}',
  '{% echo a %}{% echo a | raw %}{% echo arr | join: "," | upcase %}{% echo %}',
  '{% raw %}{{ a }}{% if %}{% endraw %}{% comment %}{{ a }}{% endcomment %}{% # inline comment %}x',
  '{% liquid\n assign y = a | append: "!"\n if y\n echo y\n endif\n for i in arr\n echo i\n endfor %}',
  // filters
  '{{ a | default: "d" }}{{ "" | default: "d" }}{{ false | default: "d", allow_false: true }}{{ nil | default: nil }}{{ arr | default: "d" }}',
  '{{ s | upcase }}{{ s | downcase }}{{ s | capitalize }}{{ s | append: a }}{{ s | prepend: n }}{{ s | size }}{{ arr | size }}{{ s | truncate: 4 }}{{ s | truncatewords: 1 }}',
  '{{ s | replace: "a", "<" }}{{ s | remove: "a" }}{{ s | split: "" | join: "," }}{{ s | strip }}{{ s | strip_html }}{{ s | escape_once }}{{ s | newline_to_br }}{{ s | url_encode }}{{ s | slugify }}',
  '{{ arr | first }}{{ arr | last }}{{ arr | reverse | join }}{{ arr | sort | join }}{{ arr | uniq | size }}{{ arr | compact | size }}{{ arr | concat: arr | size }}{{ arr | slice: 1, 2 }}{{ arr | map: "x" | join }}',
  '{{ arr | where: "x", 1 | size }}{{ arr | sum }}{{ arr | json }}{{ obj | json }}{{ a | inspect }}{{ n | plus: 1 }}{{ n | minus: "2" }}{{ n | times: 3 }}{{ n | divided_by: 2 }}{{ n | modulo: 3 }}{{ n | round }}{{ n | abs }}{{ n | at_least: 5 }}',
  '{{ d | date: "%Y-%m-%d %H:%M" }}|{{ d | date_to_xmlschema }}|{{ d | date_to_rfc822 }}|{{ d | date_to_string }}|{{ 0 | date: "%s" }}|{{ s | date: "%Y" }}',
];

const corpusContexts: object[] = [
  {},
  { a: 1, b: '1', n: 2, s: 'a<b & "c"', arr: [1, 'x', null, [2, '<']], obj: { x: '<x>', size: 3 }, k: 'x', d: '2024-03-04T05:06:07Z' },
  { a: '', b: 0, n: 0, s: '', arr: [], obj: {}, k: 'size' },
  { a: false, b: null, n: -1, s: ' ', arr: [{ x: 1 }, { x: 2 }, { x: 1 }], obj: Object.create({ x: 'inherited', size: 7, first: 'f' }) as object, k: 'first' },
  { a: [1, 2], b: [1, 2], n: 1.5, s: '  Ünïcødé 💥 text  ', arr: ['b', 'a', 'b'], obj: { first: 1, last: 2 }, k: 'last' },
  { a: 'x', b: 'x', n: 4, s: 'abc', arr: [3, 1, 2], obj: [1, 2], k: 0, d: 1700000000 },
];

describe('a corpus of small templates', () => {
  test('P21 each construct the compiler accepts prints what LiquidJS prints', () => {
    for (const source of corpus) {
      const templates = small.parse(source);
      for (const env of corpusContexts) {
        const r = differential(small, templates, env);
        expect(r.compiled, `${source}\n${JSON.stringify(env)}`).toEqual(r.liquid);
      }
    }
  });

  test('P21 the corpus prints what LiquidJS prints for generated data', () => {
    const env = fc.record({
      a: value, b: value, n: fc.oneof(fc.integer({ min: -3, max: 6 }), fc.constantFrom(NaN, 1.5, '2', null)), s: str, arr: fc.array(value, { maxLength: 6 }),
      obj: value, k: key, d: fc.oneof(str, fc.integer(), fc.constantFrom('2024-03-04T05:06:07Z', '2024-03-04')),
    }, { requiredKeys: [] });
    const parsed = corpus.map((source) => small.parse(source));
    fc.assert(fc.property(env, (e) => { for (const templates of parsed) expectSame(small, templates, e); }), { numRuns: 200 });
  });

  test('P21 under any limits, both paths stop at the same step, with the same limit, at the same tag', () => {
    const parsed = corpus.map((source) => small.parse(source));
    let stopped = 0;
    fc.assert(fc.property(fc.constantFrom(...corpusContexts), someLimits, (e, limits) => {
      for (const templates of parsed) {
        const r = differential(small, templates, { ...e }, limits);
        expect(r.compiled).toEqual(r.liquid);
        if ('threw' in r.liquid && r.liquid.threw !== 'error') stopped++;
      }
    }), { numRuns: 300 });
    // The limits were reached, not just respected.
    expect(stopped).toBeGreaterThan(1000);
  });

  test('P21 generated templates print what LiquidJS prints', () => {
    const open = fc.constantFrom('{%', '{%-');
    const close = fc.constantFrom('%}', '-%}');
    const tag = (body: fc.Arbitrary<string>) => fc.tuple(open, body, close).map(([o, b, c]) => `${o} ${b} ${c}`);
    const operand = fc.constantFrom(
      'a', 'b', 'n', 's', 'arr', 'arr.size', 'arr.first', 'arr.last', 'arr[0]', 'arr[-1]', 'arr[n]', 'obj.x', 'obj["x"]', 'obj[k]', 'obj.size', 'obj.first',
      'missing', 'missing.x', 'size', 'constructor', '__proto__', 'obj.constructor', 's.size', 's.first', '"lit"', "'<&>'", '1', '0', '-2.5', 'true', 'false',
      'nil', 'empty', 'blank', '(1..3)', '(n..3)', 'forloop.index', 'forloop.first', 'forloop.last', 'forloop.length', 'forloop', 'item', 'item.x', 'item.size', 'v', 'c',
    );
    const filter = fc.constantFrom(
      'upcase', 'downcase', 'size', 'first', 'last', 'escape', 'raw', 'default: "d"', 'default: obj.x', 'append: s', 'prepend: "<"', 'join: ","', 'plus: 1', 'json',
      'strip_html', 'truncate: 5', 'split: ","', 'replace: "a", "b"', 'sort', 'map: "x"', 'where: "x", 1', 'slice: 1, 2', 'url_encode', 'reverse', 'date: "%Y-%m-%d"',
      't', 't: count: n', 't: max: arr.size, count: s',
    );
    const value_ = fc.tuple(operand, fc.array(filter, { maxLength: 3 })).map(([o, fs]) => [o, ...fs].join(' | '));
    const op = fc.constantFrom('==', '!=', '<', '>', '<=', '>=', 'contains', 'and', 'or');
    const condition = fc.tuple(fc.boolean(), operand, fc.array(fc.tuple(op, operand), { maxLength: 3 }))
      .map(([not, first, rest]) => `${not ? 'not ' : ''}${first}${rest.map(([o, x]) => ` ${o} ${x}`).join('')}`);
    const text = fc.constantFrom('a', ' ', '\n', '<b>', '  \n  ', '&', '');
    const output = fc.tuple(fc.constantFrom('{{', '{{-'), value_, fc.constantFrom('}}', '-}}')).map(([o, v, c]) => `${o} ${v} ${c}`);
    const collection = fc.constantFrom('arr', 'obj', 's', '(1..3)', '(n..4)', 'missing', 'a', 'arr.first', 'item');
    const modifiers = fc.subarray(['limit: 2', 'offset: 1', 'reversed', 'limit: n', 'offset: n', 'limit: nil'], { maxLength: 2 }).map((m) => m.join(' '));
    const simple = fc.oneof(
      text, output, text, output,
      tag(fc.tuple(fc.constantFrom('v', 'c', 'a', 'item'), value_).map(([name, v]) => `assign ${name} = ${v}`)),
      tag(value_.map((v) => `echo ${v}`)),
      tag(fc.constantFrom('break', 'continue')),
      fc.constant('{% raw %}{{ a }}{% endraw %}'), fc.constant('{% comment %}{{ a }}{% endcomment %}'), fc.constant('{% # note %}'),
      fc.constant('{% liquid\n assign v = a\n echo v | upcase %}'),
    );
    const { top } = fc.letrec<{ top: string; body: string; node: string }>((tie) => ({
      top: fc.array(tie('node'), { minLength: 1, maxLength: 6 }).map((nodes) => nodes.join('')),
      body: fc.array(tie('node'), { maxLength: 4 }).map((nodes) => nodes.join('')),
      node: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        simple,
        fc.tuple(tag(condition.map((c) => `if ${c}`)), tie('body'), fc.array(fc.tuple(tag(condition.map((c) => `elsif ${c}`)), tie('body')), { maxLength: 2 }), fc.option(fc.tuple(tag(fc.constant('else')), tie('body'))), tag(fc.constant('endif')))
          .map(([o, b, elsifs, otherwise, end]) => `${o}${b}${elsifs.map(([t, x]) => t + x).join('')}${otherwise === null ? '' : otherwise.join('')}${end}`),
        fc.tuple(tag(condition.map((c) => `unless ${c}`)), tie('body'), fc.option(tie('body')))
          .map(([o, b, otherwise]) => `${o}${b}${otherwise === null ? '' : `{% else %}${otherwise}`}{% endunless %}`),
        fc.tuple(tag(fc.tuple(collection, modifiers).map(([c, m]) => `for item in ${c} ${m}`)), tie('body'), fc.option(tie('body')))
          .map(([o, b, otherwise]) => `${o}${b}${otherwise === null ? '' : `{% else %}${otherwise}`}{% endfor %}`),
        fc.tuple(value_, fc.array(fc.tuple(fc.array(operand, { minLength: 1, maxLength: 2 }), tie('body')), { maxLength: 3 }), fc.option(tie('body')))
          .map(([v, whens, otherwise]) => `{% case ${v} %}${whens.map(([vs, b]) => `{% when ${vs.join(', ')} %}${b}`).join('')}${otherwise === null ? '' : `{% else %}${otherwise}`}{% endcase %}`),
        fc.tuple(fc.constantFrom('c', 'v'), tie('body')).map(([name, b]) => `{% capture ${name} %}${b}{% endcapture %}`),
      ),
    }));
    const env = fc.record({
      a: value, b: value, n: fc.oneof(fc.integer({ min: -3, max: 6 }), fc.constantFrom(NaN, 1.5, '2', null)), s: str,
      arr: fc.array(value, { maxLength: 5 }), obj: value, k: key, item: value,
    }, { requiredKeys: [] });
    const limits = fc.oneof({ weight: 2, arbitrary: fc.constant(UNLIMITED) }, { weight: 1, arbitrary: someLimits });
    fc.assert(fc.property(top, env, limits, (source, e, l) => {
      const templates = small.parse(source);
      expectSame(small, templates, e, l);
    }), { numRuns: 1500 });
  });

  test('P21 layouts and blocks print what LiquidJS prints, nested layouts and layout arguments included', () => {
    const files = {
      page: "head{% assign t = 'page' %}{% layout 'base' title: t %}kept aside{% block content %}<{{ a }}>{% endblock %}{% block side %}side {{ title }}{% endblock %}",
      base: '<h1>{{ title }}</h1>{% block content %}default{% endblock %}|{% block missing %}fallback {{ a }}{% endblock %}|{% block side %}{% endblock %}|{% block %}{% endblock %}',
      nested: "{% layout 'middle' %}{% block content %}deep {{ a }}{% endblock %}",
      middle: "{% layout 'base' title: 'mid' %}{% block content %}[{% block content %}mid{% endblock %}]{% endblock %}{% block side %}mid side{% endblock %}",
      anonymous: "{% layout 'base' %}only text {{ a }}",
      none: '{% layout none %}{% block content %}C{% endblock %}x',
      loose: 'before {% block content %}B{% endblock %} after',
    };
    const liquid = new Liquid({ ...OPTIONS, cache: true, templates: files });
    for (const name of Object.keys(files)) {
      const templates = liquid.parse(files[name as keyof typeof files], name);
      for (const env of [{}, { a: '<&>' }, { a: [1, 2], title: 'env' }]) expectSame(liquid, templates, env);
    }
  });
});

describe('what the compiler does not handle', () => {
  const partials = new Liquid({ ...OPTIONS, templates: { part: 'part {{ a }}' } });
  partials.registerFilter('money', (v: unknown) => `$${String(v)}`);
  partials.registerTag('shout', { render: () => 'SHOUT' });
  const fallbacks = [
    "{% include 'part' %}", "{% render 'part', a: a %}", "{% cycle 'x', 'y' %}{% cycle 'x', 'y' %}", '{% tablerow i in (1..3) %}{{ i }}{% endtablerow %}',
    '{% increment n %}{% increment n %}', '{% decrement n %}', "{{ arr | where_exp: 'i', 'i > 1' | size }}", '{{ arr | sample | size }}', '{{ a | money }}', '{% shout %}',
    '{% for forloop in arr %}{{ forloop }}{% endfor %}', '{% for i in arr limit: 1 %}{{ i }}{% endfor %}{% for i in arr offset: continue %}{{ i }}{% endfor %}',
    "{% layout name %}{% block content %}x{% endblock %}", "{% layout 'part' %}{% block content %}{{ block }}{% endblock %}", '{% block constructor %}x{% endblock %}',
    '{% if a == %}x{% endif %}', '{% if a b %}x{% endif %}',
  ];

  test('P21 a template using anything else is rendered by LiquidJS, chosen at boot, with the same output', () => {
    const env = { a: '<a>', arr: [1, 2, 3], n: 5, name: 'part' };
    for (const source of fallbacks) {
      const templates = partials.parse(source);
      expect(() => compileTemplates(partials, templates), source).toThrow(Unsupported);
      const renderer = pageRenderer(partials, templates);
      expect(renderer.compiled).toBe(false);
      expect(outcome(() => renderer.render({ ...env })), source).toEqual(outcome(() => partials.renderSync(templates, { ...env })));
    }
  });

  test('P21 options the compiler does not mirror keep every template with LiquidJS', () => {
    for (const options of [{ jsTruthy: true }, { strictVariables: true }, { ownPropertyOnly: false }, { outputEscape: 'json' as const }, { lenientIf: true }]) {
      const liquid = new Liquid({ ...OPTIONS, ...options });
      expect(pageRenderer(liquid, liquid.parse('{{ a }}')).compiled).toBe(false);
    }
  });

  test('P21 data only LiquidJS should touch (functions, Drops, toLiquid) makes that render fall back, with the same output', () => {
    class Money extends Drop {
      override valueOf() { return '€1'; }
      cents() { return 100; }
    }
    const templates = small.parse('{{ x.f }}|{{ x }}|{{ x.cents }}|{% for i in arr %}{{ i }}{% endfor %}|{{ arr | first }}');
    const compiled = compileTemplates(small, templates);
    const renderer = pageRenderer(small, templates);
    for (const env of [{ x: { f: () => 'called' } }, { x: new Money() }, { x: { toLiquid: () => ({ f: 'liquid' }) } }, { arr: [new Money()] }]) {
      expect(() => compiled(env)).toThrow(Bail);
      expect(renderer.render(env)).toBe(small.renderSync(templates, env));
    }
  });

  const dir = mkdtempSync(join(tmpdir(), 'portico-theme-'));
  afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

  test('P21 a theme page the compiler cannot handle is still served, by LiquidJS, and the others stay compiled', () => {
    cpSync(THEME, dir, { recursive: true });
    writeFileSync(join(dir, 'error.liquid'), "{% layout 'layout' %}{% block content %}<h1 class=\"{% cycle 'a', 'b' %}\">{{ heading }}</h1>{% endblock %}");
    const custom = new Theme(dir);
    expect(custom.compiledPages).toEqual(PAGES.filter((p) => p !== 'error'));
    const row = { ...portal, branding: '{}' } as unknown as PortalRow;
    expect(custom.render('error', row, { heading: 'Gone <now>' }, english)).toContain('<h1 class="a">Gone &lt;now&gt;</h1>');
  });
});

describe('the sandbox', () => {
  test('P21 a template cannot reach the process, functions or the prototype chain: it prints what LiquidJS prints, nothing', () => {
    const probes = [
      '{{ constructor }}', '{{ x.constructor.name }}', '{{ __proto__ }}', '{{ x.__proto__ }}', '{{ x.__proto__.toString }}', '{{ "s".constructor }}',
      '{{ x.toString }}', '{{ x.hasOwnProperty }}', '{{ process }}', '{{ process.env }}', '{{ global }}', '{{ globalThis }}', '{{ this }}', '{{ require }}',
      '{{ arr.constructor }}', '{{ arr.push }}', '{{ arr.map }}', '{{ s.toUpperCase }}', '{{ s.constructor.name }}', '{{ x["constructor"] }}',
      '{{ arr.__proto__.constructor }}', '{{ x.valueOf }}', '{{ [k] }}', '{{ x[k] }}', '{{ x.constructor.constructor }}', '{{ x.secret }}', '{{ portal.constructor.constructor.name }}',
      '{% for i in arr %}{{ i.constructor }}{{ i.__proto__ }}{{ forloop.length.constructor }}{% endfor %}', '{% assign f = x.constructor %}{{ f.name }}{{ f }}',
    ];
    const env = { x: Object.create({ secret: 'on the prototype' }) as object, arr: [1, 'a'], s: 'str', k: 'constructor', portal };
    for (const probe of probes) {
      const templates = small.parse(probe);
      const r = differential(small, templates, env);
      expect(r.compiled, probe).toEqual(r.liquid);
      expect(r.compiled, probe).toMatchObject({ html: '' });
    }
  });

  test('P21 reading forloop.constructor is an error in LiquidJS, and stays one', () => {
    const templates = small.parse('{% for i in (1..2) %}{{ forloop.constructor }}{% endfor %}');
    expect(differential(small, templates, {})).toMatchObject({ liquid: { threw: 'error' }, compiled: { threw: 'error' } });
    expect(() => pageRenderer(small, templates).render({})).toThrow(/Class constructor/);
  });

  test('P21 assigning __proto__ or constructor changes nothing outside the render', () => {
    const before = Object.getOwnPropertyNames(Object.prototype).sort();
    const templates = small.parse('{% assign __proto__ = x %}{% assign constructor = x %}{% capture toString %}t{% endcapture %}{{ __proto__.polluted }}{{ constructor }}{{ toString }}{{ polluted }}');
    expectSame(small, templates, { x: { polluted: 'yes' } });
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(before);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  test('P21 like LiquidJS, `.size` is the one read that looks past own properties (an inherited size is printed)', () => {
    const templates = small.parse('{{ x.size }}|{{ x.first }}|{{ m.size }}');
    expect(differential(small, templates, { x: Object.create({ size: 'inherited', first: 'hidden' }) as object, m: new Map([[1, 2]]) }))
      .toMatchObject({ liquid: { html: 'inherited||1' }, compiled: { html: 'inherited||1' } });
  });
});
