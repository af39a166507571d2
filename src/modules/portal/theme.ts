import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Liquid, type LiquidOptions } from 'liquidjs';
import { pageRenderer, type PageRenderer } from './liquid-compiler.js';
import type { PortalRow } from './portals.service.js';
import { readJsonArray, readJsonObject } from '../../util/json.js';
import { printEscape, registerEnvFilter } from './liquid-runtime.js';
import { SOURCE_LIMITS, TEMPLATE_LIMITS, UNLIMITED, checkSource, countOutput, type TemplateLimits, type TimeSource } from './template-limits.js';
import type { Translator } from '../i18n/translator.js';
import { offeredLanguages } from '../i18n/translations.service.js';
import { catalogue, type Language } from '../i18n/catalogue.js';
import { portalText } from '../i18n/admin-text.js';

/** Where a page's translator sits in the data given to its template: out of the templates' reach. */
const TRANSLATOR = Symbol('translator');

/**
 * `{{ 'tickets.shown' | t: count: tickets.size }}`: the message of that key in the page's
 * language, with named arguments as its values (positional ones are ignored).
 */
function translateFilter(env: object, key: unknown, args: unknown[]): string {
  const translator = (env as { [TRANSLATOR]?: Translator })[TRANSLATOR];
  const name = typeof key === 'string' ? key : String(key);
  if (translator === undefined) return name;
  if (args.length === 0) return translator.t(name);
  const values: Record<string, unknown> = {};
  for (const arg of args) if (Array.isArray(arg) && typeof arg[0] === 'string') values[arg[0]] = arg[1];
  return translator.t(name, values);
}

/** The theme's own filters, on a Liquid instance (the theme's, or a test's). */
export function registerThemeFilters(liquid: Liquid): void {
  registerEnvFilter(liquid, 't', translateFilter);
}

/** Gives a template's data the translator its `t` filter reads; returns the same object. */
export function withTranslator<T extends object>(env: T, translator: Translator): T {
  Object.defineProperty(env, TRANSLATOR, { value: translator, enumerable: true, configurable: true, writable: true });
  return env;
}

/** Runs a generator to its end, at once. */
function finish<T>(steps: Generator<undefined, T>): T {
  for (let next = steps.next(); ; next = steps.next()) if (next.done === true) return next.value;
}

/** The default theme's folder: beside src/ in a checkout, beside dist/ when built. */
function themeRoot(): string {
  for (const up of ['../../..', '../../../..']) {
    const dir = join(import.meta.dirname, up, 'themes', 'default');
    if (existsSync(join(dir, 'layout.liquid'))) return dir;
  }
  throw new Error('themes/default not found');
}

/** The templates an admin may replace: every page, the layout, and the two parts of emails. */
export const TEMPLATE_NAMES = ['layout', 'home', 'search', 'sign-in', 'tickets', 'ticket', 'new-ticket', 'kb', 'kb-article', 'error', 'notice', 'confirm', 'password-reset', 'password-set', 'change-email', 'register', 'access-denied', 'email-html', 'email-text'] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

/** Where a template's source lives in the theme folder. */
function templateFile(name: string): string {
  return name.startsWith('email-') ? `emails/${name}.liquid` : `${name}.liquid`;
}

/** The default theme's sources, by file, read once. */
const defaultSourceCache = new Map<string, Record<string, string>>();
function defaultSources(root: string): Record<string, string> {
  let sources = defaultSourceCache.get(root);
  if (sources === undefined) {
    sources = Object.fromEntries(TEMPLATE_NAMES.map((name) => [templateFile(name), readFileSync(join(root, templateFile(name)), 'utf8')]));
    defaultSourceCache.set(root, sources);
  }
  return sources;
}

/** The default theme's source of one template. */
export function defaultTemplate(name: TemplateName, root = themeRoot()): string {
  return defaultSources(root)[templateFile(name)] ?? '';
}

const PAGES = ['home', 'search', 'sign-in', 'tickets', 'ticket', 'new-ticket', 'kb', 'kb-article', 'error', 'notice', 'confirm', 'password-reset', 'password-set', 'change-email', 'register', 'access-denied'] as const;
export type Page = (typeof PAGES)[number];

/** What an email says; every string already in the recipient's language. */
export interface EmailContent {
  /** Which mail this is (member.invite, member.reset, …): a portal's own template may branch on it. */
  kind?: string;
  subject: string;
  heading: string;
  paragraphs: string[];
  action?: { url: string; label: string } | null;
  after?: string[];
}

interface Branding {
  logoUrl?: string | null;
  faviconUrl?: string | null;
  primaryColor?: string | null;
  accentColor?: string | null;
}

export function brandingOf(portal: PortalRow): Branding {
  return readJsonObject<Branding>(portal.branding);
}

/** The portal's navigation menu (P23), as saved (checked when saved: https:// or a path). */
export function menuOf(portal: PortalRow): { label: string; url: string }[] {
  return readJsonArray<{ label: string; url: string }>(portal.menu);
}

export interface ThemeOptions {
  /** False keeps every page with LiquidJS (to compare the two). */
  compile?: boolean;
  /**
   * Templates replaced by name (a portal's own, P21): the theme then reads templates only from
   * memory (the default files with those replaced), never from the file system, so an admin's
   * `{% include %}` reaches nothing but other templates.
   */
  sources?: Readonly<Record<string, string>>;
  /** The limits of each render: by default TEMPLATE_LIMITS with `sources`, none for the default theme. */
  limits?: Readonly<TemplateLimits>;
  /** The clock the time limit reads (tests give their own). */
  clock?: TimeSource;
}

interface ThemeParts {
  pages: Map<Page, PageRenderer>;
  emailHtml: PageRenderer;
  emailText: PageRenderer;
}

/** A Liquid as the theme makes them: its filters, its escaping (`html`), its limits, output counted. */
export function themeLiquid(where: Pick<LiquidOptions, 'root' | 'templates'>, limits: Readonly<TemplateLimits>, html: boolean): Liquid {
  const liquid = new Liquid({
    ...where, extname: '.liquid', cache: true, strictFilters: true, ownPropertyOnly: true,
    // Emails' text part is printed as written (it is not HTML); everything else is escaped.
    ...(html ? { outputEscape: printEscape } : {}),
    parseLimit: SOURCE_LIMITS.characters, memoryLimit: limits.memory, renderLimit: limits.time,
  });
  registerThemeFilters(liquid);
  countOutput(liquid);
  return liquid;
}

/**
 * Parses and compiles the theme's templates one at a time, yielding after each, so that a build
 * can let other requests in between (Theme.build). A portal's own source over SOURCE_LIMITS
 * throws TemplateTooLarge; one that does not parse throws LiquidJS's ParseError, with its line
 * and column.
 */
function* assemble(root: string, options: ThemeOptions): Generator<undefined, ThemeParts> {
  const sources = options.sources;
  for (const [name, source] of Object.entries(sources ?? {})) checkSource(name, source);
  const templates = sources === undefined ? undefined : { ...defaultSources(root), ...Object.fromEntries(Object.entries(sources).map(([name, source]) => [templateFile(name), source])) };
  const where = templates === undefined ? { root } : { templates };
  const limits = options.limits ?? (sources === undefined ? UNLIMITED : TEMPLATE_LIMITS);
  const html = themeLiquid(where, limits, true);
  const text = themeLiquid(where, limits, false);
  const rendererOptions = { compile: options.compile ?? true, limits, ...(options.clock === undefined ? {} : { clock: options.clock }) };
  // Parsing a template and compiling it (with its layout) are each a step of their own.
  function* renderer(liquid: Liquid, file: string): Generator<undefined, PageRenderer> {
    const templates = liquid.parseFileSync(file);
    yield;
    const made = pageRenderer(liquid, templates, rendererOptions);
    yield;
    return made;
  }
  const pages = new Map<Page, PageRenderer>();
  for (const page of PAGES) pages.set(page, yield* renderer(html, page));
  const emailHtml = yield* renderer(html, 'emails/email-html');
  return { pages, emailHtml, emailText: yield* renderer(text, 'emails/email-text') };
}

/**
 * The portal theme: LiquidJS templates, parsed once at boot. Liquid is a sandbox (templates
 * admins edit later cannot run code on the server), and every output is HTML-escaped unless a
 * template says otherwise. Each page is also compiled at boot to closures that print exactly
 * what LiquidJS would, several times faster (liquid-compiler.ts); a page using something the
 * compiler does not mirror is rendered by LiquidJS, and `compiledPages` says which are not.
 * A portal's own templates render within TEMPLATE_LIMITS (template-limits.ts): a render that
 * reaches one throws TemplateLimitError.
 */
export class Theme {
  private readonly pages: Map<Page, PageRenderer>;
  private readonly emailHtml: PageRenderer;
  private readonly emailText: PageRenderer;
  readonly css: string;
  /** The portal's one script (portal.js): the menu button, choices applied as they change, article suggestions. */
  readonly script: string;
  /** The pages rendered by compiled closures rather than by LiquidJS's interpreter. */
  readonly compiledPages: readonly Page[];

  /** Builds the theme at once; `parts` is for Theme.build, which has made them already. */
  constructor(root = themeRoot(), options: ThemeOptions = {}, parts?: ThemeParts) {
    const made = parts ?? finish(assemble(root, options));
    this.pages = made.pages;
    this.emailHtml = made.emailHtml;
    this.emailText = made.emailText;
    this.compiledPages = PAGES.filter((page) => this.pages.get(page)?.compiled === true);
    this.css = readFileSync(join(root, 'portal.css'), 'utf8');
    this.script = readFileSync(join(root, 'portal.js'), 'utf8');
  }

  /**
   * The same theme, built a template at a time with other work let in between: a portal's
   * theme is built while the process serves (parsing the biggest template a portal may save
   * takes milliseconds; all of them at once would hold every other request).
   */
  static async build(root = themeRoot(), options: ThemeOptions = {}): Promise<Theme> {
    const steps = assemble(root, options);
    for (let next = steps.next(); ; next = steps.next()) {
      if (next.done === true) return new Theme(root, options, next.value);
      await nextTurn();
    }
  }

  /**
   * What every page knows of its portal, its own text in the page's language (admin-text.ts).
   * Only these fields reach templates.
   */
  portalContext(portal: PortalRow, language: Language) {
    const b = brandingOf(portal);
    const text = portalText(portal, language);
    // An uploaded logo (logo.service.ts) wins over a logo address.
    const file = (b as { logoFile?: { sha256?: unknown } }).logoFile;
    const uploaded = typeof file?.sha256 === 'string' && /^[0-9a-f]{64}$/.test(file.sha256) ? `/assets/logo/${file.sha256}` : null;
    return { name: text.name, title: text.title, slug: portal.slug, language: portal.language, logo_url: uploaded ?? b.logoUrl ?? null, favicon_url: b.faviconUrl ?? null, menu: text.menu };
  }

  /**
   * An email of the portal, as HTML and as plain text, from emails/email-{html,text}.liquid:
   * a heading, paragraphs, an optional button with its link, paragraphs after it.
   */
  renderEmail(portal: PortalRow, mail: EmailContent, translator: Translator): { html: string; text: string } {
    const b = brandingOf(portal);
    const primary = typeof b.primaryColor === 'string' && /^#[0-9a-fA-F]{6}$/.test(b.primaryColor) ? b.primaryColor : '#2454d6';
    const env = () => withTranslator({ ...mail, kind: mail.kind ?? '', action: mail.action ?? null, after: mail.after ?? [], primary, portal: this.portalContext(portal, translator.language), lang: translator.language }, translator);
    return { html: this.emailHtml.render(env()), text: this.emailText.render(env()).replace(/\n{3,}/g, '\n\n') };
  }

  /** CSS variables from the portal's colours (validated as #rrggbb when saved). */
  brandCss(portal: PortalRow): string {
    const b = brandingOf(portal);
    const colour = (v: string | null | undefined) => (typeof v === 'string' && /^#[0-9a-fA-F]{6}$/.test(v) ? v : undefined);
    const vars = [['--primary', colour(b.primaryColor)], ['--accent', colour(b.accentColor)]].filter(([, v]) => v !== undefined);
    return `:root { ${vars.map(([k, v]) => `${String(k)}: ${String(v)};`).join(' ')} }\n`;
  }

  /** The language switch's choices, each named in its own language. */
  languagesContext(portal: PortalRow, current: string) {
    return offeredLanguages(portal).map((code) => ({ code, name: catalogue(code).source.get('language.name') ?? code, current: code === current }));
  }

  /** A page in the translator's language: `lang` for <html lang>, `languages` for the switch. */
  render(page: Page, portal: PortalRow, context: Record<string, unknown>, translator: Translator): string {
    const renderer = this.pages.get(page);
    if (renderer === undefined) throw new Error(`no template ${page}`);
    return renderer.render(withTranslator({
      ...context,
      portal: this.portalContext(portal, translator.language),
      lang: translator.language,
      languages: this.languagesContext(portal, translator.language),
    }, translator));
  }
}
