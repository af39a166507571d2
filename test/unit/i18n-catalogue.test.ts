import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse, TYPE, type MessageFormatElement } from '@formatjs/icu-messageformat-parser';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { argumentsOf, catalogue, compileMessage, LANGUAGES, REFERENCE_LANGUAGE } from '../../src/modules/i18n/catalogue.js';
import { checkOverride, chooseLanguage } from '../../src/modules/i18n/translations.service.js';
import { canonicalTimeZone, Translator } from '../../src/modules/i18n/translator.js';
import { Theme } from '../../src/modules/portal/theme.js';
import type { PortalRow } from '../../src/modules/portal/portals.service.js';

const ROOT = join(import.meta.dirname, '..', '..');

function filesUnder(dir: string, ext: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(ext))
    .map((e) => join(e.parentPath, e.name));
}

const reference = catalogue(REFERENCE_LANGUAGE);
const keys = [...reference.source.keys()];

describe('the message catalogues', () => {
  test('X1 P7 each language has a catalogue file, and no file is a language the code does not know', () => {
    const files = readdirSync(join(ROOT, 'locales')).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, '')).sort();
    expect(files).toEqual([...LANGUAGES].sort());
  });

  test('X1 every catalogue has exactly the keys English has', () => {
    for (const language of LANGUAGES) {
      const have = [...catalogue(language).source.keys()];
      expect(have.filter((k) => !reference.source.has(k)), `${language}: keys English lacks`).toEqual([]);
      expect(keys.filter((k) => !catalogue(language).source.has(k)), `${language}: keys missing`).toEqual([]);
    }
  });

  test('X1 no catalogue copies English: each message is translated (a word spelled alike in both is listed here on purpose)', () => {
    const alike = new Set<string>([]);
    for (const language of LANGUAGES.filter((l) => l !== REFERENCE_LANGUAGE)) {
      const copied = keys.filter((key) => !alike.has(key) && catalogue(language).source.get(key) === reference.source.get(key));
      expect(copied, `${language}: messages identical to English`).toEqual([]);
    }
  });

  test('X1 every message reads exactly the values its English message reads, and each plural names every form of its language', () => {
    const forms = (language: string) => new Intl.PluralRules(language).resolvedOptions().pluralCategories as string[];
    const plurals = (elements: MessageFormatElement[]): Set<string>[] => elements.flatMap((el) => {
      if (el.type === TYPE.plural) return [new Set(Object.keys(el.options)), ...Object.values(el.options).flatMap((o) => plurals(o.value))];
      if (el.type === TYPE.select) return Object.values(el.options).flatMap((o) => plurals(o.value));
      return [];
    });
    for (const language of LANGUAGES) {
      for (const [key, message] of catalogue(language).source) {
        const ast = parse(message, { ignoreTag: true, requiresOtherClause: true });
        expect([...argumentsOf(ast)].sort(), `${language} ${key}`).toEqual([...argumentsOf(parse(reference.source.get(key) ?? '', { ignoreTag: true }))].sort());
        for (const options of plurals(ast)) {
          for (const form of forms(language)) expect(options.has(form), `${language} ${key} lacks the plural form "${form}"`).toBe(true);
        }
      }
    }
  });

  test('X1 every key is used by the code or the theme, and every key the code names exists', () => {
    const sources = [...filesUnder(join(ROOT, 'src'), '.ts'), ...filesUnder(join(ROOT, 'themes'), '.liquid')];
    const text = new Map(sources.map((file) => [relative(ROOT, file), readFileSync(file, 'utf8')]));
    const all = [...text.values()].join('\n');
    const unused = keys.filter((key) => !all.includes(`'${key}'`) && !all.includes(`"${key}"`));
    expect(unused, 'keys no code uses').toEqual([]);
    // Anything quoted that looks like a key of one of the catalogue's namespaces must be a key.
    const namespaces = new Set(keys.map((k) => k.split('.')[0]));
    const named = new Set<string>();
    for (const [file, source] of text) {
      if (file.startsWith('src/db/')) continue;
      // Failpoint names (util/failpoints.ts) look like keys but are not.
      for (const match of source.matchAll(/(failpoint\(\s*)?['"]([a-z][A-Za-z]*(?:\.[A-Za-z]+)+)['"]/g)) {
        if (match[1] !== undefined) continue;
        const candidate = match[2]!;
        if (namespaces.has(candidate.split('.')[0]) && !/\.(ts|js|json|liquid|css)$/.test(candidate)) named.add(candidate);
      }
    }
    expect([...named].filter((k) => !reference.source.has(k)), 'keys the code names that no catalogue has').toEqual([]);
    expect(named.size).toBeGreaterThan(40);
  });

  test('X1 Polish has its three plural forms, English its two', () => {
    const pl = new Translator('pl', 'UTC');
    const en = new Translator('en', 'UTC');
    const shown = (tr: Translator, count: number) => tr.t('tickets.shown', { count });
    expect([1, 2, 4, 5, 12, 21, 22, 25, 112, 1001].map((n) => shown(pl, n))).toEqual([
      'Wyświetlono 1 zgłoszenie', 'Wyświetlono 2 zgłoszenia', 'Wyświetlono 4 zgłoszenia', 'Wyświetlono 5 zgłoszeń', 'Wyświetlono 12 zgłoszeń',
      'Wyświetlono 21 zgłoszeń', 'Wyświetlono 22 zgłoszenia', 'Wyświetlono 25 zgłoszeń', 'Wyświetlono 112 zgłoszeń', 'Wyświetlono 1001 zgłoszeń',
    ]);
    expect([1, 2, 5].map((n) => shown(en, n))).toEqual(['Showing 1 ticket', 'Showing 2 tickets', 'Showing 5 tickets']);
    expect([1, 3, 10].map((max) => pl.t('ticket.replyFilesHint', { max }))).toEqual(['(najwyżej 1 plik)', '(najwyżej 3 pliki)', '(najwyżej 10 plików)']);
    expect(pl.t('error.tooMany.message', { seconds: 22 })).toBe('Zbyt wiele prób. Spróbuj ponownie za 22 sekundy.');
    expect(pl.fileSize(1536)).toBe('1,5 kB');
    expect(en.fileSize(3 * 1024 * 1024)).toBe('3 MB');
  });

  test('X1 a message that cannot be formatted falls back to the catalogue, then to English, then to its key; never an exception', () => {
    const pl = new Translator('pl', 'UTC', new Map([['tickets.shown', compileMessage('{count, number} sprawy', 'pl')], ['tickets.heading', compileMessage('Moje', 'pl')]]));
    expect(pl.t('tickets.heading')).toBe('Moje');
    expect(pl.t('tickets.shown', { count: 3 })).toBe('3 sprawy');
    // A value the plural cannot take: the override prints, the catalogue would have thrown.
    expect(pl.t('tickets.shown', { count: 'x' })).toBe('NaN sprawy');
    // No value at all: every source fails, and the key is printed.
    expect(pl.t('tickets.shown', {})).toBe('tickets.shown');
    expect(pl.t('no.such.key')).toBe('no.such.key');
  });

  test('X1 overrides are checked: syntax, values, key, length', () => {
    expect(checkOverride('tickets.shown', '{count, plural, one {# x} other {# y}}')).toBeUndefined();
    expect(checkOverride('tickets.shown', 'no values at all')).toBeUndefined();
    expect(checkOverride('tickets.shown', '{count, plural, one {# x}')).toMatch(/^This is not a valid ICU message: /);
    expect(checkOverride('tickets.heading', '{x}')).toMatch(/takes no values/);
    expect(checkOverride('nope', 'x')).toBe('There is no message with this key: use a key from the list.');
    expect(checkOverride('tickets.heading', 'a\u0000b')).toMatch(/NUL/);
    // Tags are text, escaped on the page like any other.
    expect(checkOverride('tickets.heading', '<b>Tickets</b>')).toBeUndefined();
  });
});

describe('choosing a visitor’s language', () => {
  const both = { language: 'en', languages: '["pl"]' };
  test('X1 the switch beats the saved preference beats Accept-Language beats the primary language; only offered languages count', () => {
    expect(chooseLanguage(both, {})).toBe('en');
    expect(chooseLanguage(both, { acceptLanguage: 'pl' })).toBe('pl');
    expect(chooseLanguage(both, { saved: 'pl', acceptLanguage: 'en' })).toBe('pl');
    expect(chooseLanguage(both, { chosen: 'en', saved: 'pl', acceptLanguage: 'pl' })).toBe('en');
    expect(chooseLanguage({ language: 'pl', languages: '[]' }, { chosen: 'en', saved: 'en', acceptLanguage: 'en' })).toBe('pl');
    expect(chooseLanguage({ language: 'xx', languages: 'not json' }, { acceptLanguage: 'pl' })).toBe('en');
  });

  test('X1 any header, cookie or saved value whatever: an offered language, never an exception', () => {
    fc.assert(fc.property(fc.string(), fc.string(), fc.option(fc.string()), (acceptLanguage, chosen, saved) => {
      expect(['en', 'pl']).toContain(chooseLanguage(both, { acceptLanguage, chosen, saved }));
    }), { numRuns: 500 });
  });
});

describe('dates', () => {
  test('X1 a date is the day in the portal’s zone, for any instant and zone, however the labels are cached', () => {
    const zones = ['UTC', 'Europe/Warsaw', 'Asia/Kolkata', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'America/St_Johns', 'Pacific/Chatham', 'Pacific/Kiritimati', 'America/Adak'];
    const day = fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2040, 0, 1) });
    fc.assert(fc.property(fc.constantFrom(...LANGUAGES), fc.constantFrom(...zones), fc.array(day, { minLength: 1, maxLength: 30 }), (language, zone, instants) => {
      const tr = new Translator(language, zone);
      const expected = new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeZone: zone });
      for (const ms of instants) {
        expect(tr.date(ms)).toBe(expected.format(ms));
        // Either side of the local midnight nearest this instant.
        for (const near of [ms - (ms % 900_000), ms - (ms % 900_000) - 1]) expect(tr.date(near)).toBe(expected.format(near));
      }
    }), { numRuns: 300 });
  });

  test('X1 time zones are IANA names, canonicalised; offsets and paths are not zones', () => {
    expect(canonicalTimeZone('europe/warsaw')).toBe('Europe/Warsaw');
    expect(canonicalTimeZone('UTC')).toBe('UTC');
    for (const bad of ['', '+01:00', 'Mars/Base', '../etc/passwd', 'Europe/Warsaw\n', 'x'.repeat(65)]) expect(canonicalTimeZone(bad)).toBeUndefined();
  });
});

describe('the default theme holds no words of its own', () => {
  // Every message becomes ⟦key⟧ and every piece of data «…»: whatever letters remain on the
  // rendered page were typed into a template instead of a catalogue.
  class Marking extends Translator {
    override t(key: string): string {
      return `⟦${key}⟧`;
    }
  }
  const mark = new Marking('en', 'UTC');
  const portal = { id: 1, name: '«name»', title: '«title»', slug: 'acme', language: 'en', languages: '["pl"]', branding: JSON.stringify({ logoUrl: 'https://x.example/l.png' }) } as unknown as PortalRow;
  const ticket = (closed: boolean) => ({
    id: 7, subject: '«subject»', closed, state: 'open', status: '«status»', created_at: '«iso»', created: '«date»',
    messages: [{ author: '«author»', from_customer: true, body: '«body»', created_at: '«iso»', created: '«date»', attachments: [{ id: 1, filename: '«file»', size: '«size»' }] }],
  });
  const rows = [{ id: 3, subject: '«subject»', created_at: '«iso»', created: '«date»', last_activity_at: '«iso»', last_activity: '«date»', state: 'open', status: '«status»' }];
  const common = { member: { name: '«member»' }, csrf: 'c', here: '/acme', page_title: '«page»' };
  const nav = { home: '/acme', tickets: '/acme/tickets', kb: '/acme/kb', new_ticket: '/acme/new', sign_in: '/acme/sign-in' };
  const pages = {
    home: [
      { ...common, nav, section: 'home', new_ticket_url: '/acme/new', open_tickets: rows, popular: [{ title: '«article»', url: '/acme/kb/a' }] },
      { ...common, nav, section: 'home', new_ticket_url: null, open_tickets: [], popular: [] },
    ],
    search: [
      { ...common, nav, q: '«q»', tickets: rows, articles: [{ title: '«article»', url: '/acme/kb/a' }], more_tickets: '/acme/tickets?q=x' },
      { ...common, nav, q: '«q»', tickets: [], articles: [], more_tickets: null },
      { ...common, nav, q: '', tickets: [], articles: null, more_tickets: null },
    ],
    'sign-in': [{ ...common, nav: { ...nav, home: null, tickets: null, new_ticket: null }, member: null, next: '/acme', email: '', error: '«error»', methods: { password: true, magic_link: true }, self_registration: true }],
    notice: [{ ...common, heading: '«heading»', message: '«message»', action: { url: '/x', label: '«label»' } }],
    'password-reset': [{ ...common, member: null, email: '' }],
    'access-denied': [{ ...common, member: null, heading: '«heading»', message: '«message»' }],
    'change-email': [{ ...common, current_email: '«current»', email: '«email»', error: '«error»' }],
    register: [{ ...common, member: null, consent_html: '<p>«consent»</p>', consent_label: '«label»', name: '«name»', email: '«email»', consent: true, error: '«error»' }],
    'password-set': [{ ...common, member: { name: '«member»', can_change_password: true }, heading: '«heading»', action: '/x', needs_current: true, email: '«email»', error: '«error»' }],
    tickets: [
      { ...common, tickets: rows, view: 'mine', company_scope: true, filters: { view: 'mine', status: 'all', q: '', sort: '-created' }, next_page: '/acme?cursor=x', view_links: { mine: '/m', organization: '/o' } },
      { ...common, tickets: [], view: 'mine', company_scope: false, filters: { view: 'mine', status: 'open', q: 'x', sort: '-created' }, next_page: null, view_links: { mine: '/m', organization: '/o' } },
      { ...common, tickets: [], view: 'mine', company_scope: false, filters: { view: 'mine', status: 'all', q: '', sort: '-created' }, next_page: null, view_links: { mine: '/m', organization: '/o' } },
    ],
    ticket: [{ ...common, nav, ticket: ticket(false), max_files: 10 }, { ...common, ticket: { ...ticket(true), messages: [] }, max_files: 10 }, { ...common, ticket: ticket(false), max_files: 10, reply_error: '«error»', reply_text: '«text»', files_lost: true }],
    error: [{ ...common, nav, heading: '«heading»', message: '«message»', status: 404 }],
    kb: [{ ...common, nav, q: '', results: [], categories: [{ name: '«c»', description: '«d»', articles: [{ title: '«a»', url: '/x' }] }] }, { ...common, q: '«q»', results: [], categories: [] }],
    'kb-article': [{ ...common, nav, article: { title: '«t»', category: '«c»', html: '<p>«body»</p>', updated: '«date»' } }],
  } as const;

  test('X1 P11 emails hold no words of their own either, in their HTML or their text', () => {
    const theme = new Theme();
    const { html, text } = theme.renderEmail(portal, { subject: '«subject»', heading: '«heading»', paragraphs: ['«p1»', '«p2»'], action: { url: 'https://x.example/a', label: '«label»' }, after: ['«after»'] }, mark);
    const visible = [...html.replace(/<(style|script|title)[\s\S]*?<\/\1>/g, '').split(/<[^>]*>/), ...text.split('\n')];
    const leftover = visible.map((s) => s.replace(/⟦[^⟧]*⟧|«[^»]*»|https:\/\/x\.example\/a/g, '')).filter((s) => /\p{L}/u.test(s));
    expect(leftover).toEqual([]);
    expect(html).toContain('⟦email.footer⟧');
    expect(text).toContain('«label»:\nhttps://x.example/a');
  });

  test('X1 P21 every page’s text and its labels (aria-label, alt, title, placeholder) come from the catalogue or the data', () => {
    const theme = new Theme();
    for (const [page, contexts] of Object.entries(pages)) {
      for (const context of contexts) {
        const html = theme.render(page as keyof typeof pages, portal, { ...context }, mark);
        const visible = [
          ...html.replace(/<(style|script)[\s\S]*?<\/\1>/g, '').split(/<[^>]*>/),
          ...[...html.matchAll(/\s(?:aria-label|alt|title|placeholder)="([^"]*)"/g)].map((m) => m[1]!),
        ];
        // The language switch names each language in itself, on purpose.
        const leftover = visible.map((s) => s.replace(/⟦[^⟧]*⟧|«[^»]*»|English|Polski/g, '')).filter((s) => /\p{L}/u.test(s));
        expect(leftover, `${page}: ${html}`).toEqual([]);
        expect(html).toContain('⟦');
      }
    }
  });
});
